"""Bootstrapped projects load in Dagster's own tools, pass their own tests and are lint-clean.

Every template is rendered into a fresh folder (never pip-installed) and checked with real
subprocesses run from the project root:

- ``dagster definitions validate`` with ``PYTHONPATH=src``: Dagster 1.13 imports
  ``[tool.dagster] module_name`` from the current directory only (it has no working-directory
  key), so an uninstalled src-layout project needs ``src`` on the path, as its README says;
- ``dg check defs --use-active-venv`` with no help at all: dg finds ``src/`` itself, validates
  in-process with this interpreter and never creates or resolves a virtual environment;
- the project's own ``tests/test_defs.py`` (``pythonpath = ["src"]`` comes from its pyproject),
  with warnings as errors;
- ``ruff check`` and ``ruff format --check`` with the project's own ruff settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._scaffold.project import TEMPLATES, render_project, starter_job

BIN = Path(sys.executable).parent
#: Quotes, braces and a newline: the generated project must load and lint with it all the same.
PROJECT_NAME = "Weird \"name\" {{ x }} '''\nline two"


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(result.args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """This environment, with a private DAGSTER_HOME whose telemetry is off."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"DAGSTER_HOME": str(home), "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def write_project(root: Path, template: str) -> str:
    package = f"{template}_proj"
    files = render_project(package=package, template=template, project_name=PROJECT_NAME)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return package


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_bootstrapped_project_loads_and_passes_its_tests(
    template: str, tmp_path: Path, child_env: dict[str, str]
) -> None:
    root = tmp_path / f"{template}-proj"
    package = write_project(root, template)

    validate = run(
        [str(BIN / "dagster"), "definitions", "validate"],
        cwd=root,
        env={**child_env, "PYTHONPATH": "src"},
    )
    assert validate.returncode == 0, explain(validate)
    assert f"Validation successful for code location {package}." in validate.stderr

    check = run([str(BIN / "dg"), "check", "defs", "--use-active-venv"], cwd=root, env=child_env)
    assert check.returncode == 0, explain(check)
    assert "All definitions loaded successfully." in check.stdout
    assert not (root / ".venv").exists()

    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=root,
        env=child_env,
    )
    assert tests.returncode == 0, explain(tests)
    assert "2 passed" in tests.stdout, explain(tests)

    lint = run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=root, env=child_env)
    assert lint.returncode == 0, explain(lint)
    fmt = run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."], cwd=root, env=child_env)
    assert fmt.returncode == 0, explain(fmt)

    # The run left nothing behind in the project but Python caches.
    stray = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_dir() and p.name.startswith((".tmp_dagster_home_", ".dagster"))
    ]
    assert stray == []
    assert starter_job(template) in (root / "README.md").read_text(encoding="utf-8")
