"""The MCP server's pieces that need no webserver: allow-list, host check, tool registry,
where its logs go."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from daglab._config import load_config
from daglab._errors import UsageError
from daglab._logging import close_logging, get_logger, setup_logging
from daglab._mcp import MUTATIONS, TOOLS, tools_for
from daglab._mcp._server import allowed_operations, check_host, quiet_sdk_logging, tool_inputs


def test_read_only_unless_allowed(git_project: Path) -> None:
    loaded = load_config(start=git_project)
    assert "launchRun" in loaded.config.security.allowed_operations  # the CLI default ...
    assert allowed_operations(loaded, []) == frozenset()  # ... does not reach MCP
    assert {t.name for t in tools_for([])} == {t.name for t in TOOLS if t.read_only}
    assert "launch_run" in {t.name for t in tools_for(["launchRun"])}
    assert "terminate_run" not in {t.name for t in tools_for(["launchRun"])}
    with pytest.raises(UsageError, match="did you mean launchRun"):
        allowed_operations(loaded, ["lauchRun"])
    (git_project / "daglab.yaml").write_text("mcp:\n  allow: [terminateRun]\n")
    assert allowed_operations(load_config(start=git_project), ["launchRun"]) == {
        "launchRun",
        "terminateRun",
    }


def test_every_mutation_has_a_tool_and_every_tool_its_inputs() -> None:
    assert {t.operation for t in TOOLS if not t.read_only} == set(MUTATIONS)
    assert tool_inputs("launch_run")[:3] == ["job", "assets", "run_config"]
    assert tool_inputs("wait_for_run") == ["run_id", "timeout"]  # the context is not an input


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com", "::"])
def test_only_loopback_hosts(host: str) -> None:
    with pytest.raises(UsageError) as info:
        check_host(host)
    assert info.value.exit_code == 2
    check_host("127.0.0.1")


def test_tracebacks_go_to_the_log_file_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "daglab.log"
    setup_logging(console_level="WARNING", file=log_file, file_level="INFO")
    try:
        quiet_sdk_logging()
        try:
            raise RuntimeError("deep inside")
        except RuntimeError as exc:
            get_logger("mcp").error("tool x raised unexpectedly", exc_info=exc)
        logging.getLogger("mcp.server").info("sdk chatter")
        logging.getLogger("mcp.server").warning("sdk warning")
    finally:
        for name in ("mcp", "mcp_types", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx"):
            logging.getLogger(name).handlers = []
            logging.getLogger(name).propagate = True
        close_logging()
    err = capsys.readouterr().err
    assert "tool x raised unexpectedly" in err and "Traceback" not in err
    assert "sdk" not in err
    written = log_file.read_text()
    assert "Traceback" in written and "deep inside" in written
    assert "sdk warning" in written and "sdk chatter" not in written
