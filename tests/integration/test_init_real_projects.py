"""`daglab init` as a real subprocess on projects Dagster's own tools make and load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._scaffold.project import TEMPLATES, starter_assets, starter_job
from tests.conftest import run_daglab

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name)


def run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.mark.slow
def test_init_in_a_create_dagster_project(git_project: Path, dagster_home: Path) -> None:
    made = run([tool("create-dagster"), "project", "analytics", "--no-uv-sync"], cwd=git_project)
    assert made.returncode == 0, made.stderr
    root = git_project / "analytics"
    first = run_daglab("init", "--tasks", "just", cwd=root)
    assert first.exit_code == 0, first
    assert "dg-project" in first.stdout
    assert (root / "src" / "analytics" / "notebooks").is_dir()
    assert '  #   "analytics"\n' in (root / "daglab.yaml").read_text()  # as `dg dev` serves it
    assert "daglab doctor" in (root / "justfile").read_text()
    second = run_daglab("init", "--json", cwd=root)
    assert '"changed": false' in second.stdout
    check = run([tool("dg"), "check", "defs"], cwd=root, DAGSTER_HOME=str(dagster_home))
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_bootstrapped_projects_load_in_dagster(
    template: str, git_project: Path, dagster_home: Path
) -> None:
    """Dagster's own tools, the project's own tests and ruff accept what --bootstrap writes.

    The project is never pip-installed: `dagster definitions validate` gets ``PYTHONPATH=src``
    (Dagster 1.13 imports ``[tool.dagster]`` modules from the current folder only), while
    `dg check defs` finds ``src/`` itself and must not create a virtual environment.
    """
    folder = f'{template} "quoted" {{{{ braces }}}}'
    result = run_daglab(
        "init",
        "--bootstrap",
        folder,
        "--template",
        template,
        "--package-name",
        f"{template}_proj",
        cwd=git_project,
    )
    assert result.exit_code == 0, result
    root = git_project / folder
    package = f"{template}_proj"
    env = {"DAGSTER_HOME": str(dagster_home)}
    validate = run([tool("dagster"), "definitions", "validate"], cwd=root, PYTHONPATH="src", **env)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert (
        f"Validation successful for code location {package}." in validate.stdout + validate.stderr
    )
    check = run([tool("dg"), "check", "defs", "--use-active-venv"], cwd=root, **env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully." in check.stdout
    assert not (root / ".venv").exists()
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=root,
        **env,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    lint = run([tool("ruff"), "check", "--no-cache", "."], cwd=root)
    assert lint.returncode == 0, lint.stdout
    fmt = run([tool("ruff"), "format", "--check", "--no-cache", "."], cwd=root)
    assert fmt.returncode == 0, fmt.stdout
    examples = sorted((root / "src" / package / "notebooks" / "examples").glob("*_explore.py"))
    assert [p.name for p in examples] == sorted(
        ["quickstart_explore.py", *(f"{a}_explore.py" for a in starter_assets(template))]
    )
    marimo = run([tool("marimo"), "check", "--strict", *map(str, examples)], cwd=root)
    assert marimo.returncode == 0, marimo.stdout + marimo.stderr
    offline = {"DAGLAB_DAGSTER__PORT": "9", "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0", **env}
    quick, asset = (
        next(p for p in examples if (p.name == "quickstart_explore.py") == want)
        for want in (True, False)
    )
    quickstart = run([sys.executable, str(quick)], cwd=root, **offline)
    assert quickstart.returncode == 0 and "Traceback" not in quickstart.stderr, quickstart.stderr
    # A starter asset's notebook imports the asset from the project, for in-process runs.
    html = root / "example.html"
    export = run(
        [tool("marimo"), "export", "html", str(asset), "-o", str(html)], cwd=root, **offline
    )
    assert export.returncode == 0, export.stdout + export.stderr
    page = html.read_text()
    assert "not reachable" in page and "Cannot import" not in page
    html.unlink()
    stray = [p.name for p in root.rglob(".tmp_dagster_home_*")]
    assert stray == []
    assert starter_job(template) in (root / "README.md").read_text()
