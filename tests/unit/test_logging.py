"""Redaction and the rotating log file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from daglab._logging import (
    get_logger,
    redact,
    register_secret,
    register_secrets_from_env,
    setup_logging,
)


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer tok_abc123",
        "{'Authorization': 'Basic dXNlcjpwYXNz'}",
        "url?access_token=abcd1234&x=1",
        "Dagster-Cloud-Api-Token: user:abcd1234",
        'password = "hunter22"',
    ],
)
def test_credential_shapes_are_masked(text: str) -> None:
    masked = redact(text)
    assert "***" in masked
    for secret in ("tok_abc123", "dXNlcjpwYXNz", "abcd1234", "hunter22"):
        assert secret not in masked


def test_registered_and_env_secrets_are_masked() -> None:
    register_secret("plain-value-42")
    register_secrets_from_env({"MY_SERVICE_TOKEN": "svc-token-7", "PATH": "/usr/bin"})
    assert redact("a plain-value-42 b svc-token-7 c") == "a *** b *** c"
    assert redact("/usr/bin") == "/usr/bin"


def test_nothing_else_is_touched() -> None:
    assert redact("run 42 launched on port 3000") == "run 42 launched on port 3000"


def test_log_file_rotates_and_never_holds_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / ".daglab" / "daglab.log"
    log_file.parent.mkdir()
    register_secret("sk-live-0000")
    setup_logging(
        console_level="DEBUG", file=log_file, file_level="DEBUG", max_bytes=400, backup_count=2
    )
    log = get_logger("test")
    for index in range(40):
        log.debug("request %d with header Authorization: Bearer sk-live-0000", index)
    try:
        raise RuntimeError("failed with token sk-live-0000")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("daglab").handlers[-1].flush()
    files = sorted(log_file.parent.glob("daglab.log*"))
    assert [f.name for f in files] == ["daglab.log", "daglab.log.1", "daglab.log.2"]
    combined = "".join(f.read_text() for f in files)
    assert "sk-live-0000" not in combined
    assert "Bearer ***" in combined
    terminal = capsys.readouterr().err
    assert "sk-live-0000" not in terminal
    assert "token ***" in terminal


def test_no_log_file_and_no_folder_outside_an_initialised_project(tmp_path: Path) -> None:
    log_file = tmp_path / ".daglab" / "daglab.log"
    setup_logging(console_level="ERROR", file=log_file, file_level="DEBUG")
    get_logger("test").info("nothing to see")
    assert not (tmp_path / ".daglab").exists()
    (tmp_path / ".daglab").mkdir()
    get_logger("test").info("now it is written")
    logging.getLogger("daglab").handlers[-1].flush()
    assert "now it is written" in log_file.read_text()
