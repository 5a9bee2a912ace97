"""`daglab doctor` without a server: packages, DAGSTER_HOME, config, --fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from daglab._doctor import _suggest, check_requirements, describe_instance
from tests.conftest import Result, make_dg_project


def checks_by_name(result: Result) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the checks at ports nothing listens on."""
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    monkeypatch.setenv("DAGLAB_DAGSTER__PORT", str(ports[0]))
    monkeypatch.setenv("DAGLAB_DAGSTER__HOST", "127.0.0.1")
    monkeypatch.setenv("DAGLAB_MARIMO__PORT", str(ports[1]))


def test_healthy_project_without_server(cli, git_project: Path, free_ports: None) -> None:
    make_dg_project(git_project)
    (git_project / "daglab.yaml").write_text("{}\n")
    result: Result = cli("doctor", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    checks = checks_by_name(result)
    assert checks["python"]["status"] == "ok"
    assert checks["packages"]["status"] == "ok"
    assert checks["dagster"]["status"] == "ok"
    assert checks["dagster"]["data"]["version"].startswith("1.")
    assert checks["marimo"]["status"] == "ok"
    assert checks["dagster_home"]["status"] == "warn"  # unset in tests
    assert checks["config"]["status"] == "ok"
    assert checks["project"]["data"]["package"] == "shop"
    assert checks["webserver"]["status"] == "warn"
    assert "dagster dev" in checks["webserver"]["remediation"]
    assert checks["telemetry"]["status"] == "ok"
    assert checks["notebooks_folder"]["status"] == "warn"


def test_invalid_config_is_critical_with_exit_7(cli, git_project: Path, free_ports: None) -> None:
    make_dg_project(git_project)
    (git_project / "daglab.yaml").write_text("dagster:\n  prot: 1\n")
    result: Result = cli("doctor", "--json", cwd=git_project)
    assert result.exit_code == 7
    config = checks_by_name(result)["config"]
    assert config["status"] == "fail" and config["critical"]
    assert "did you mean 'dagster.port'" in config["summary"]


def test_missing_dagster_home_folder_is_critical(
    cli, git_project: Path, free_ports: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(git_project / "nope"))
    result: Result = cli("doctor", cwd=git_project)
    assert result.exit_code == 3
    assert "mkdir -p" in result.stdout
    assert "Critical problems" in result.stdout


def test_dagster_home_instance_is_described(
    cli, git_project: Path, free_ports: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = git_project / "dh"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: x\ntelemetry:\n  enabled: false\n"
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    result: Result = cli("doctor", "--json", cwd=git_project)
    check = checks_by_name(result)["dagster_home"]
    assert check["status"] == "ok"
    assert check["data"]["storage"] == "postgres"
    assert check["data"]["telemetry"] is False
    assert describe_instance(git_project)["storage"] == "sqlite (default)"


def test_fix_creates_folders_and_config(cli, git_project: Path, free_ports: None) -> None:
    make_dg_project(git_project)
    result: Result = cli("doctor", "--fix", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    checks = checks_by_name(result)
    assert checks["notebooks_folder"]["status"] == "fixed"
    assert checks["config_file"]["status"] == "fixed"
    assert (git_project / ".daglab" / "cache").is_dir()
    assert (git_project / "src" / "shop" / "notebooks").is_dir()
    written = (git_project / "daglab.yaml").read_text()
    assert "repository_location_name" not in written and '#   "proj"' in written
    again = checks_by_name(cli("doctor", "--json", cwd=git_project))
    assert again["notebooks_folder"]["status"] == "ok"
    assert again["config"]["status"] == "ok"


def test_check_deps_walks_the_tree(cli, git_project: Path, free_ports: None) -> None:
    result: Result = cli("doctor", "--check-deps", "--json", cwd=git_project)
    packages = checks_by_name(result)["packages"]
    assert packages["data"]["deep"] is True
    shallow = check_requirements("daglab", deep=False)[0]
    assert packages["data"]["checked"] > shallow.data["checked"]


def test_conflicts_suggest_an_upgrade_or_downgrade() -> None:
    assert _suggest(Requirement("rich>=99"), "15.0.0") == "upgrade: pip install 'rich>=99'"
    assert _suggest(Requirement("rich<2,>=1"), "15.0.0") == "downgrade: pip install 'rich<2,>=1'"


def test_table_output(cli, git_project: Path, free_ports: None) -> None:
    make_dg_project(git_project)
    result: Result = cli("doctor", cwd=git_project)
    assert result.exit_code == 0, result
    assert "daglab doctor" in result.stdout
    assert "No critical problems" in result.stdout
    assert "[tool.dg]" in result.stdout  # brackets are shown, not taken as markup


def _daglab_imports(path: Path) -> set[str]:
    """Every ``daglab.*`` module ``path`` imports, at module level or inside a function."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("daglab.")}


def test_doctor_and_the_dev_sidecar_do_not_import_each_other() -> None:
    import daglab

    src = Path(daglab.__file__).parent
    doctor_files = sorted((src / "_doctor").glob("*.py"))
    assert len(doctor_files) >= 4
    for path in doctor_files:
        doctor = _daglab_imports(path)
        assert not [name for name in doctor if name.startswith("daglab._sidecar")], path
    sidecar_files = sorted((src / "_sidecar").glob("*.py"))
    assert len(sidecar_files) >= 5
    for path in sidecar_files:
        imported = _daglab_imports(path)
        assert not [name for name in imported if name.startswith("daglab._doctor")], path


def test_importing_doctor_loads_no_dev_sidecar() -> None:
    import subprocess
    import sys

    code = (
        "import sys, daglab._doctor; "
        "print(sorted(m for m in sys.modules if m.startswith('daglab._sidecar')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
