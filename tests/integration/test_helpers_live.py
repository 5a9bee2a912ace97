"""``daglab.helpers`` against the real webserver: connect, discover, validate, launch, attach."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daglab import helpers
from daglab._errors import ConnectivityError, ValidationError
from tests.conftest import FIXTURES
from tests.dagster_server import DagsterServer, graphql

pytestmark = pytest.mark.dagster
CONFIGURABLE = "ops:\n  multiply:\n    config:\n      multiplier: 4\n"


@pytest.fixture
def project(tmp_path: Path, dagster_server: DagsterServer) -> Path:
    """A copy of the sample project whose daglab.yaml points at the test server."""
    root = tmp_path / "sample"
    shutil.copytree(FIXTURES / "sample_dagster_project", root)
    (root / ".git").mkdir()
    (root / "daglab.yaml").write_text(f"dagster:\n  url: {dagster_server.url}\n")
    return root


def test_connect_reads_daglab_yaml_and_checks_health(project: Path) -> None:
    conn = helpers.connect(project=project)
    assert conn.ok, conn.problem
    assert conn.version and conn.version[0].isdigit()
    assert helpers.connect(project=project).client is conn.client  # shared per endpoint


def test_connect_to_a_dead_server_reports_instead_of_raising(project: Path) -> None:
    (project / "daglab.yaml").write_text("dagster:\n  port: 9\n  graphql: {max_retries: 0}\n")
    conn = helpers.connect(project=project)
    assert not conn.ok
    assert "cannot reach" in (conn.problem or "")
    assert "daglab dev" in (conn.remedy or "")
    check = helpers.validate_config("configurable_job", CONFIGURABLE, conn=conn)
    assert check.ok is None and "cannot reach" in check.summary
    with pytest.raises(ConnectivityError, match="cannot reach"):
        helpers.run_job("configurable_job", conn=conn)


def test_validate_config_reports_syntax_and_schema_problems(project: Path) -> None:
    conn = helpers.connect(project=project)
    assert helpers.validate_config("configurable_job", CONFIGURABLE, conn=conn).ok is True
    missing = helpers.validate_config("configurable_job", "", conn=conn)
    assert missing.ok is False and any("multiplier" in p for p in missing.problems)
    broken = helpers.validate_config("configurable_job", "ops: [", conn=conn)
    assert broken.ok is False and "line" in broken.problems[0]
    unknown = helpers.validate_config("configurble_job", CONFIGURABLE, conn=conn)
    assert unknown.ok is None and "did you mean configurable_job" in unknown.summary
    assets = helpers.validate_config(None, "", assets=["orders/*"], conn=conn)
    assert assets.ok is True


def test_run_job_to_success_and_failure_records_state_and_timing(
    project: Path, dagster_server: DagsterServer
) -> None:
    conn = helpers.connect(project=project)
    state = helpers.manage_state({"run_ids": [], "runs": [], "last_config": None})
    tracker = helpers.PerformanceTracker()
    launched: list[str] = []
    seen: list[str] = []
    outcome = helpers.run_job(
        "configurable_job",
        config=CONFIGURABLE,
        conn=conn,
        state=state,
        tracker=tracker,
        tags={"daglab/notebook": "test_nb"},
        on_launch=lambda run: launched.append(run.url or ""),
        on_update=lambda run, _: seen.append(run.status),
        timeout=120,
    )
    assert outcome.succeeded, outcome.to_dict()
    assert launched == [f"{conn.url}/runs/{outcome.run.run_id}"]
    assert seen[-1] == "SUCCESS"
    assert state["run_ids"] == [outcome.run.run_id]
    assert state["runs"][0]["config"] == {"ops": {"multiply": {"config": {"multiplier": 4}}}}
    assert tracker.summary()["ui"]["count"] == 1
    query = (
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value } } } }"
    )
    node = graphql(dagster_server, query, {"id": outcome.run.run_id})["data"]["runOrError"]
    tags = {t["key"]: t["value"] for t in node["tags"]}
    assert node["status"] == "SUCCESS"
    assert tags["daglab/launched-by"] == "notebook" and tags["daglab/notebook"] == "test_nb"

    failed = helpers.run_job("failing_job", conn=conn, timeout=120)
    assert failed.run.status == "FAILURE"
    assert any("sample failure" in f.describe() for f in failed.failures)

    assets = helpers.run_job(assets="orders/raw_orders", conn=conn, timeout=120)
    assert assets.succeeded and assets.run.job_name == "__ASSET_JOB"


def test_run_job_refuses_invalid_config_before_launching(project: Path) -> None:
    conn = helpers.connect(project=project)
    before = len(conn.require().runs(limit=1000))
    with pytest.raises(ValidationError, match="multiplier"):
        helpers.run_job("configurable_job", config="ops: {}", conn=conn)
    assert len(conn.require().runs(limit=1000)) == before


def test_views_launch_turns_errors_into_a_logged_callout(project: Path) -> None:
    conn = helpers.connect(project=project)
    state = helpers.manage_state({"error_log": []})
    launched = helpers.views.launch(
        helpers.run_job,
        job="configurable_job",
        config="ops: {}",
        assets=None,
        conn=conn,
        state=state,
    )
    assert launched.error is not None and launched.failed
    assert state["error_log"][0]["where"] == "launch"
    assert "multiplier" in state["error_log"][0]["error"]


def test_attach_metadata_records_an_observation(
    project: Path, tmp_path: Path, dagster_server: DagsterServer
) -> None:
    conn = helpers.connect(project=project)
    html = tmp_path / "nb.html"
    html.write_text("<html></html>")
    attached = helpers.attach_metadata(
        "orders/raw_orders", {"rows": 3}, html=html, notebook=tmp_path / "nb.py", conn=conn
    )
    assert attached.metadata["exploration"] == str(html.resolve())
    query = """query { assetOrError(assetKey: {path: ["orders", "raw_orders"]}) {
      ... on Asset { assetObservations(limit: 1) { metadataEntries { label
        ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } } } } } }"""
    node = graphql(dagster_server, query)["data"]["assetOrError"]
    entries = {e["label"]: e for e in node["assetObservations"][0]["metadataEntries"]}
    assert entries["exploration"]["text"] == str(html.resolve())
    assert entries["rows"]["intValue"] == 3
    with pytest.raises(ValidationError, match="did you mean orders/raw_orders"):
        helpers.attach_metadata("orders/raw_order", {"x": 1}, conn=conn)


def test_inprocess_through_the_view_is_timed_and_not_recorded(project: Path) -> None:
    tracker = helpers.PerformanceTracker()
    state = helpers.manage_state({"error_log": []})
    result = helpers.views.inprocess(
        helpers.run_inprocess,
        "configurable_job",
        kind="job",
        config=CONFIGURABLE,
        project=project,
        state=state,
        tracker=tracker,
    )
    assert result.value is not None and result.value.success
    assert result.value.recorded_in_dagster is False
    assert tracker.summary()["inprocess"]["count"] == 1
    bad = helpers.views.inprocess(
        helpers.run_inprocess, "configurable_job", config="ops: [", project=project, state=state
    )
    assert bad.error is not None and state["error_log"]


def test_importing_helpers_does_not_import_dagster() -> None:
    code = (
        "import json, sys\n"
        "from daglab.helpers import run_job, discover, attach_metadata, run_inprocess,"
        " validate_config, track_performance, manage_state, views\n"
        "print(json.dumps(sorted(m for m in ('dagster', 'marimo') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_runs_compared_across_configs_with_their_metrics(project: Path) -> None:
    conn = helpers.connect(project=project)
    state = helpers.manage_state({"runs": [], "run_ids": []})
    for multiplier in (1, 3):
        config = {"ops": {"scaled_summary": {"config": {"multiplier": multiplier}}}}
        outcome = helpers.run_job(
            assets="orders/raw_orders,orders/cleaned_orders,daily_summary,scaled_summary",
            config=config,
            conn=conn,
            state=state,
            timeout=120,
        )
        assert outcome.succeeded, outcome.to_dict()
    metrics = [conn.require().run_metrics(run_id) for run_id in state["run_ids"]]
    assert metrics[1]["scaled_summary.value"] == 3 * metrics[0]["scaled_summary.value"]
    assert metrics[0]["scaled_summary.ratio"] == metrics[0]["scaled_summary.value"] / 100
    table = helpers.views.compare_runs(conn, state)
    rows = table.data
    assert [r["ops.scaled_summary.config.multiplier"] for r in rows] == [1, 3]
    assert rows[1]["scaled_summary.value"] == metrics[1]["scaled_summary.value"]
    assert all(r["status"] == "SUCCESS" for r in rows)
