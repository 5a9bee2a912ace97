"""`daglab doctor` against the session's real `dagster dev`, and a token that never leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_dg_project, run_daglab
from tests.dagster_server import DagsterServer

pytestmark = pytest.mark.dagster

TOKEN = "tok-4f1c9e-very-secret"


def endpoint_env(server: DagsterServer) -> dict[str, str]:
    return {"DAGLAB_DAGSTER__HOST": server.host, "DAGLAB_DAGSTER__PORT": str(server.port)}


def test_doctor_reports_the_live_webserver(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    make_dg_project(git_project)
    result = run_daglab("doctor", "--json", cwd=git_project, env=endpoint_env(dagster_server))
    assert result.exit_code == 0, result
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    webserver = checks["webserver"]
    assert webserver["status"] == "ok"
    assert webserver["data"]["reachable"] is True
    assert webserver["data"]["dagster_webserver_version"].startswith("1.")
    graphql = checks["graphql"]
    assert graphql["status"] == "ok"
    assert graphql["data"]["version"] == webserver["data"]["dagster_version"]
    assert graphql["data"]["median_ms"] > 0


def test_doctor_with_a_wrong_path_prefix_fails(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    env = {**endpoint_env(dagster_server), "DAGLAB_DAGSTER__PATH_PREFIX": "/nope"}
    result = run_daglab("doctor", "--json", cwd=git_project, env=env)
    assert result.exit_code == 5, result
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["graphql"]["status"] == "fail"


def test_token_never_reaches_terminal_or_log(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    make_dg_project(git_project)
    (git_project / ".daglab").mkdir()
    (git_project / "daglab.yaml").write_text(
        "dagster:\n  auth:\n    type: bearer\n    token_env: MY_DAGSTER_CRED\n"
    )
    env = {**endpoint_env(dagster_server), "MY_DAGSTER_CRED": TOKEN}
    result = run_daglab("--log-level", "DEBUG", "doctor", cwd=git_project, env=env)
    assert result.exit_code == 0, result
    log = (git_project / ".daglab" / "daglab.log").read_text()
    assert "Bearer ***" in log  # the request was logged, with its header masked
    assert "Bearer ***" in result.stderr
    for text in (result.stdout, result.stderr, log):
        assert TOKEN not in text
    as_json = run_daglab("--log-level", "DEBUG", "doctor", "--json", cwd=git_project, env=env)
    assert TOKEN not in as_json.stdout + as_json.stderr


def test_missing_token_for_bearer_auth_is_exit_6(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    (git_project / "daglab.yaml").write_text("dagster:\n  auth:\n    type: bearer\n")
    result = run_daglab("doctor", "--json", cwd=git_project, env=endpoint_env(dagster_server))
    assert result.exit_code == 6, result
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert "DAGSTER_GRAPHQL_TOKEN" in checks["webserver_auth"]["remediation"]


def test_a_location_that_failed_to_load_is_a_critical_failure_with_dagsters_error(
    shop_server: DagsterServer, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    env = endpoint_env(shop_server)
    result = run_daglab("doctor", "--json", cwd=tmp_path, env=env)
    assert result.exit_code == 3, result
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    broken = checks["code_location:broken_location"]
    assert broken["status"] == "fail" and broken["critical"] is True
    assert broken["exit_code"] == 3
    # the whole error under --json, its first lines in the summary
    assert "broken_location.missing_module" in broken["data"]["error"]
    assert broken["data"]["load_status"] == "FAILED"
    assert "missing_module" in broken["summary"]
    assert len(broken["summary"].splitlines()) <= 8
    assert "discover --json" in broken["remediation"]
    assert "dagster dev" in broken["remediation"]
    for name in ("dagster_shop", "analytics"):
        ok = checks[f"code_location:{name}"]
        assert ok["status"] == "ok" and ok["data"]["load_status"] == "LOADED"
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == [
        "code_location:broken_location"
    ]

    table = run_daglab("doctor", cwd=tmp_path, env={**env, "COLUMNS": "200"})
    assert table.exit_code == 3, table
    assert "code_location:broken_location" in table.stdout
    assert "missing_module" in table.stdout
    assert "Critical problems: code_location:broken_location" in table.stdout


def test_every_location_that_failed_is_reported_with_its_own_error(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A workspace of its own: one location loads, two fail in different ways."""
    from tests.dagster_server import run_dagster_dev

    base = tmp_path_factory.mktemp("doctor_failures")
    project = base / "project"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "good.py").write_text(
        "import dagster as dg\n\n\n@dg.asset\ndef fine() -> int:\n    return 1\n\n\n"
        "defs = dg.Definitions(assets=[fine])\n"
    )
    (project / "no_module.py").write_text("import module_that_is_not_there  # noqa\n")
    (project / "raises.py").write_text(
        "\n".join(f"# line {n}" for n in range(3))
        + "\nraise RuntimeError('settings are missing: set SHOP_DSN')\n"
    )
    (project / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: good.py, location_name: good}\n"
        "  - python_file: {relative_path: no_module.py, location_name: no_module}\n"
        "  - python_file: raises.py\n"
    )
    with run_dagster_dev(
        base, project_dir=project, may_fail=frozenset({"no_module", "raises.py"})
    ) as server:
        result = run_daglab("doctor", "--json", cwd=project, env=endpoint_env(server))
    assert result.exit_code == 3, result
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["code_location:good"]["status"] == "ok"
    missing = checks["code_location:no_module"]
    assert missing["status"] == "fail" and missing["critical"] is True
    assert "module_that_is_not_there" in missing["data"]["error"]
    assert "module_that_is_not_there" in missing["summary"]
    raised = checks["code_location:raises.py"]  # Dagster's default name: the file's, with .py
    assert raised["status"] == "fail" and raised["critical"] is True
    assert "settings are missing: set SHOP_DSN" in raised["data"]["error"]
    assert "module_that_is_not_there" not in raised["data"]["error"]
    failed = [c["name"] for c in checks.values() if c["status"] == "fail"]
    assert sorted(failed) == ["code_location:no_module", "code_location:raises.py"]
