"""daglab installed without its extras (no Dagster, no marimo), as ``uv tool install daglab``
gives it: the commands that talk to a webserver work against the session's real ``dagster dev``,
and the ones that need Dagster or marimo exit 3 naming the extra to install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.dagster_server import DagsterServer

pytestmark = [pytest.mark.dagster, pytest.mark.slow]


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv holding daglab and its hard requirements only."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    uv = shutil.which("uv")
    env = {**os.environ, "UV_COMPILE_BYTECODE": "1"}
    if uv is not None:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(folder)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(folder / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        install = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*install, "-e", str(REPO_ROOT)], check=True, env=env, timeout=600)
    yield folder / "bin"


def daglab(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(cwd),
        "NO_COLOR": "1",
        "COLUMNS": "120",
        **env,
    }
    return subprocess.run(
        [str(bin_dir / "daglab"), *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_neither_dagster_nor_marimo_is_installed(bare_venv: Path) -> None:
    code = "import importlib.util as u; print(u.find_spec('dagster'), u.find_spec('marimo'))"
    done = subprocess.run([bare_venv / "python", "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["None", "None"], done


def test_discover_and_run_against_a_webserver(
    bare_venv: Path, dagster_server: DagsterServer, git_project: Path
) -> None:
    found = daglab(bare_venv, git_project, "discover", "--url", dagster_server.url, "--json")
    assert found.returncode == 0, found
    data = json.loads(found.stdout)
    jobs = {job["name"] for job in data["jobs"]}
    assert {"configurable_job", "failing_job", "quick_asset_job"} <= jobs
    assert "orders/raw_orders" in {a["key"] for a in data["assets"]}

    ran = daglab(
        bare_venv, git_project, "run", "--job", "quick_asset_job", "--json",
        DAGLAB_DAGSTER__URL=dagster_server.url,
    )  # fmt: skip
    assert ran.returncode == 0, ran
    outcome = json.loads(ran.stdout)
    assert outcome["status"] == "SUCCESS"

    stats = daglab(bare_venv, git_project, "stats", "--url", dagster_server.url, "--json")
    assert stats.returncode == 0, stats
    report = json.loads(stats.stdout)
    assert "succeeded" in report["headline"]  # read from Dagster's record of daglab's runs
    assert "quick_asset_job" in stats.stdout


def test_init_bootstrap_needs_no_dagster(bare_venv: Path, git_project: Path) -> None:
    done = daglab(bare_venv, git_project, "init", "--bootstrap", "shop")
    assert done.returncode == 0, done
    assert (git_project / "shop" / "pyproject.toml").is_file()


def test_doctor_reports_the_missing_extras_without_failing_on_them(
    bare_venv: Path, git_project: Path
) -> None:
    done = daglab(bare_venv, git_project, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    for package, extra in (("dagster", "dagster"), ("marimo", "notebooks")):
        assert checks[package]["status"] == "warn", checks[package]
        assert f"pip install 'daglab[{extra}]'" in checks[package]["remediation"]
        assert checks[package]["critical"] is False


def test_an_in_process_run_and_an_export_exit_3_naming_the_extra(
    bare_venv: Path, git_project: Path
) -> None:
    code = (
        "from daglab.helpers import run_inprocess\n"
        "try:\n    run_inprocess('quick_asset_job')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, int(exc.exit_code), exc.remediation)"
    )
    done = subprocess.run(
        [bare_venv / "python", "-c", code], cwd=git_project, capture_output=True, text=True
    )
    assert done.stdout.startswith("EnvironmentMissingError 3 "), done
    assert "pip install 'daglab[dagster]'" in done.stdout
    notebook = git_project / "nb.py"
    notebook.write_text("import marimo\napp = marimo.App()\n", "utf-8")
    exported = daglab(bare_venv, git_project, "export", "nb.py")
    assert exported.returncode == 3, exported
    assert "pip install 'daglab[notebooks]'" in exported.stderr
