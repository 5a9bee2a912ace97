"""Text from outside (file names, messages) cannot drive the terminal: control characters are
escaped in everything daglab prints, by the console factory and the error handler."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from daglab._logging import escape_control
from tests.conftest import Result, make_dg_project, run_daglab

EVIL = "x\x1b[31mred\x1b[0m\x07\rbell\x9b2J\u202egnp"


def test_escape_control_keeps_newline_and_tab() -> None:
    assert escape_control("a\tb\nc") == "a\tb\nc"
    assert escape_control("a\x1b[2Jb\x00\r\x7f") == "a\\x1b[2Jb\\x00\\x0d\\x7f"
    assert escape_control("\u202etxt.exe") == "\\u202etxt.exe"
    assert escape_control(escape_control(EVIL)) == escape_control(EVIL)


@pytest.fixture
def project(git_project: Path) -> Path:
    make_dg_project(git_project, "shop")
    (git_project / "daglab.yaml").write_text(
        "notebooks_dir: src/shop/notebooks\nexport: {retention_days: 30}\n"
    )
    # clean lists marimo's session files by their layout: a notebook named by an attacker
    # leaves one with the same name
    sessions = git_project / "src" / "shop" / "notebooks" / "__marimo__" / "session"
    sessions.mkdir(parents=True)
    old = sessions / f"{EVIL}.py.json"
    old.write_text("{}")
    stamp = time.time() - 40 * 86400
    os.utime(old, (stamp, stamp))
    return git_project


def assert_no_control(text: str) -> None:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, repr(text)
    assert "\u202e" not in text


def test_clean_dry_run_escapes_control_characters_in_file_names(project: Path) -> None:
    result = run_daglab("clean", "--dry-run", cwd=project)
    assert result.exit_code == 0, result
    assert_no_control(result.stdout + result.stderr)
    assert "x\\x1b[31mred\\x1b[0m\\x07\\x0dbell\\x9b2J\\u202egnp.py.json" in result.stdout


def test_clean_dry_run_json_keeps_the_name_exact(project: Path) -> None:
    result = run_daglab("clean", "--dry-run", "--json", cwd=project)
    assert result.exit_code == 0, result
    assert_no_control(result.stdout)
    paths = [item["path"] for item in json.loads(result.stdout)["items"]]
    assert any(path.endswith(f"{EVIL}.py.json") for path in paths)


def test_error_messages_escape_control_characters(cli, git_project: Path) -> None:
    result: Result = cli("run", "--job", "j", "--run-config", f"{EVIL}.yaml", cwd=git_project)
    assert result.exit_code == 7, result
    assert_no_control(result.stderr)
    assert "x\\x1b[31mred" in result.stderr


def test_log_lines_escape_control_characters(
    cli, git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"DAGLAB_{EVIL}", "1")  # the unknown-variable warning quotes the name
    result: Result = cli("config", "show", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    assert "WARNING" in result.stderr
    assert_no_control(result.stderr)
