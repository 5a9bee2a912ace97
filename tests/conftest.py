"""Shared test set-up: a clean environment for every test, and helpers to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["tests.dagster_server"]

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No DAGLAB_*, colour or DAGSTER_HOME settings leak in; HOME is a fresh folder."""
    for name in list(os.environ):
        if name.startswith("DAGLAB_") or name in (
            "NO_COLOR",
            "FORCE_COLOR",
            "DAGSTER_HOME",
            "DAGSTER_GRAPHQL_TOKEN",
            "TERM",
            "COLUMNS",
        ):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    yield
    from daglab._logging import close_logging

    close_logging()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"exit {self.exit_code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_daglab(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> Result:
    """The installed ``daglab`` entry point as a real subprocess."""
    exe = Path(sys.executable).parent / "daglab"
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def daglab_cli() -> object:
    return run_daglab


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> object:
    """Run the CLI in-process (fast): ``cli(*args, cwd=path) -> Result``."""
    from daglab._cli._app import run

    def invoke(*args: str, cwd: Path | None = None) -> Result:
        previous = Path.cwd()
        os.chdir(cwd or tmp_path)
        capsys.readouterr()
        try:
            code = run(list(args))
        finally:
            os.chdir(previous)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """An empty folder that is a git root, so config discovery stops there."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    return root


def make_dg_project(root: Path, package: str = "shop") -> Path:
    """A project shaped like `create-dagster project` makes (written directly, fast)."""
    (root / "src" / package / "defs").mkdir(parents=True)
    (root / "src" / package / "__init__.py").write_text("")
    (root / "src" / package / "defs" / "__init__.py").write_text("")
    (root / "src" / package / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n\n@dg.definitions\ndef defs():\n"
        "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
    )
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{package}"\nversion = "0.1.0"\ndependencies = ["dagster"]\n\n'
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{package}"\n'
    )
    return root
