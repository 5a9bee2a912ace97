"""Start-up is a feature: what `daglab --help` and light commands import, and the help cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("dagster", "dagster_graphql", "marimo", "httpx", "jinja2", "pydantic_settings", "psutil")


def imported_modules(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "daglab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


def heavy_in(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["init", "--help"],
        ["doctor", "--help"],
        ["config", "show", "--help"],
        ["discover", "--help"],
        ["run", "--help"],
        ["--version"],
    ],
    ids=" ".join,
)
def test_help_imports_nothing_heavy_even_when_rendering(args: list[str], tmp_path: Path) -> None:
    modules = imported_modules(args, tmp_path, {"DAGLAB_NO_HELP_CACHE": "1"})
    assert "typer" in modules or args == ["--version"]
    assert heavy_in(modules) == set()


@pytest.mark.parametrize("args", [["config", "show"], ["doctor", "--json"]], ids=" ".join)
def test_commands_that_run_no_user_code_do_not_import_dagster_or_marimo(
    args: list[str], tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    roots = {m.split(".")[0] for m in imported_modules(args, tmp_path)}
    assert "dagster" not in roots
    assert "marimo" not in roots


def help_text(args: list[str], cache: Path, **env: str) -> str:
    """``python -m daglab ARGS`` with its help cache in ``cache``; returns stdout."""
    return subprocess.run(
        [sys.executable, "-m", "daglab", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache), **env},
        check=True,
    ).stdout


def test_cached_help_is_identical_and_skips_typer(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = help_text(["doctor", "--help"], cache)
    assert list((cache / "daglab" / "help").glob("*.txt"))
    second = help_text(["doctor", "--help"], cache)
    assert first == second
    assert "--check-deps" in second
    modules = imported_modules(["doctor", "--help"], tmp_path, {"XDG_CACHE_HOME": str(cache)})
    assert "typer" not in modules
    assert "rich" not in {m.split(".")[0] for m in modules}


def test_help_cache_depends_on_terminal_width(tmp_path: Path) -> None:
    narrow = help_text(["--help"], tmp_path, COLUMNS="60")
    wide = help_text(["--help"], tmp_path, COLUMNS="150")
    assert max(map(len, narrow.splitlines())) <= 60
    assert max(map(len, wide.splitlines())) > 60


def test_a_corrupt_cache_entry_is_ignored(tmp_path: Path) -> None:
    help_text(["--help"], tmp_path)
    for entry in (tmp_path / "daglab" / "help").glob("*.txt"):
        entry.write_text("garbage\nnot help")
    out = help_text(["--help"], tmp_path)
    assert "Usage" in out and "garbage" not in out
