"""`daglab stats` against the real `dagster dev`: runs launched through daglab's own code (the
client with each launcher, and a real `daglab run --sweep`), in-process runs recorded by the
hook in `run_inprocess`, and the history of exports, all counted and checked against Dagster."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from daglab import _history, _stats
from daglab._client import DagsterClient, JobRef
from daglab._config_models import DagsterSettings
from daglab._inprocess import run_inprocess
from daglab._stats.formatting import format_seconds
from tests.conftest import FIXTURES
from tests.dagster_server import LOCATION_NAME, REPOSITORY_NAME, DagsterServer, graphql

pytestmark = pytest.mark.dagster

MULTIPLY = {"ops": {"multiply": {"config": {"multiplier": 2}}}}
RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) {
  ... on Run { runId status jobName startTime endTime } } }"""
SWEEP = """def config_gen():
    for m in (3, 4):
        yield f"m={m}", {"ops": {"multiply": {"config": {"multiplier": m}}}}
"""


@dataclass
class Scenario:
    project: Path
    since: str
    server: DagsterServer
    runs: dict[str, dict[str, Any]]  # run id -> Dagster's record
    launchers: dict[str, str]  # run id -> launched-by
    sweep_id: str
    inprocess_seconds: list[float]
    export_path: str


def job(name: str) -> JobRef:
    return JobRef(name, REPOSITORY_NAME, LOCATION_NAME)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def scenario(dagster_server: DagsterServer, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    project = Path(
        shutil.copytree(FIXTURES / "sample_dagster_project", tmp_path_factory.mktemp("s") / "p")
    )
    (project / ".daglab").mkdir()
    (project / "sweep.py").write_text(SWEEP)
    started = time.time()
    since = datetime.fromtimestamp(started).isoformat()
    settings = DagsterSettings(url=dagster_server.url)  # type: ignore[call-arg]
    launched: dict[str, str] = {}
    with DagsterClient(settings, launched_by="cli") as cli_client:
        for name, config in (("configurable_job", MULTIPLY), ("failing_job", None)):
            launched[cli_client.launch(job(name), config).run_id] = "cli"
    with DagsterClient(settings, launched_by="notebook") as notebook_client:
        run = notebook_client.launch(
            job("quick_asset_job"), tags={"daglab/notebook": "stats_explore.py"}
        )
        launched[run.run_id] = "notebook"

    # A real sweep through the CLI, while the runs above execute.
    env = {
        **os.environ,
        "DAGLAB_DAGSTER__URL": dagster_server.url,
        "DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": "10",
    }
    exe = Path(sys.executable).parent / "daglab"
    command = [str(exe), "run", "--job", "configurable_job", "--sweep", "sweep.py", "--json"]
    sweep = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # In-process runs of the same targets meanwhile: recorded only in the local history.
        timings = []
        for _ in range(2):
            result = run_inprocess("configurable_job", project=project, run_config=MULTIPLY)
            assert result.success, result.error
            timings.append(result.duration_s)
        assert run_inprocess("daily_summary", project=project).success
        out, err = sweep.communicate(timeout=300)
    finally:
        stop(sweep)
    assert sweep.returncode == 0, out + err
    outcome = json.loads(out)
    launched.update({r["run_id"]: "sweep" for r in outcome["results"]})

    with DagsterClient(settings) as client:
        for run_id in launched:
            assert client.wait(run_id, timeout=300).finished
    records = {
        run_id: graphql(dagster_server, RUN_QUERY, {"id": run_id})["data"]["runOrError"]
        for run_id in launched
    }
    export_path = str(project / "stats_explore.html")
    _history.record(
        "export",
        {"notebook": "stats_explore.py", "path": export_path, "bytes": 4096},
        start=project,
    )
    _history.record("attach", {"asset": "daily_summary", "html": export_path}, start=project)
    return Scenario(
        project, since, dagster_server, records, launched, outcome["sweep_id"], timings, export_path
    )


def stats_json(cli: Any, scenario: Scenario, *args: str) -> dict[str, Any]:
    result = cli("stats", "--json", "--url", scenario.server.url, *args, cwd=scenario.project)
    assert result.exit_code == 0, result
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def durations(
    scenario: Scenario, status: str | None = None, job_name: str | None = None
) -> list[float]:
    return [
        r["endTime"] - r["startTime"]
        for r in scenario.runs.values()
        if (status is None or r["status"] == status)
        and (job_name is None or r["jobName"] == job_name)
    ]


def test_counts_success_rate_and_durations(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    report = stats_json(cli, scenario, "--since", scenario.since)
    assert report["dagster"]["available"] is True and report["dagster"]["truncated"] is False
    statuses = {run_id: r["status"] for run_id, r in scenario.runs.items()}
    assert sorted(statuses.values()) == ["FAILURE", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"]
    runs = report["runs"]
    assert runs["total"] == 5 and runs["finished"] == 5 and runs["in_flight"] == 0
    assert (runs["succeeded"], runs["failed"]) == (4, 1)
    assert runs["success_rate"] == 0.8
    by_launcher = {name: row["runs"] for name, row in runs["by_launcher"].items()}
    assert by_launcher == {"cli": 2, "sweep": 2, "notebook": 1}
    assert runs["by_launcher"]["cli"]["failed"] == 1
    assert runs["by_launcher"]["sweep"]["success_rate"] == 1.0
    assert runs["by_notebook"] == {"stats_explore.py": 1}
    assert runs["sweeps"] == 1
    every = durations(scenario)
    assert runs["duration"]["count"] == 5
    assert runs["duration"]["mean_s"] == pytest.approx(statistics.fmean(every), abs=1e-3)
    assert runs["duration"]["median_s"] == pytest.approx(statistics.median(every), abs=1e-3)
    assert runs["duration"]["max_s"] == pytest.approx(max(every), abs=1e-3)
    mean = format_seconds(statistics.fmean(every))  # "1 min 24 s" once runs take a minute
    assert report["headline"].startswith("5 runs launched by daglab since ")
    assert report["headline"].endswith(f": 4 succeeded (80%), mean {mean}.")


def test_most_used_jobs_and_assets(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    report = stats_json(cli, scenario, "--since", scenario.since)
    jobs = {row["name"]: row for row in report["jobs"]}
    assert report["jobs"][0]["name"] == "configurable_job"
    assert (jobs["configurable_job"]["runs"], jobs["configurable_job"]["inprocess_runs"]) == (3, 2)
    assert jobs["configurable_job"]["success_rate"] == 1.0
    assert jobs["configurable_job"]["mean_duration_s"] == pytest.approx(
        statistics.fmean(durations(scenario, job_name="configurable_job")), abs=1e-3
    )
    assert (jobs["failing_job"]["runs"], jobs["failing_job"]["success_rate"]) == (1, 0.0)
    assert jobs["quick_asset_job"]["runs"] == 1
    assets = {row["key"]: row for row in report["assets"]}
    # quick_asset_job materialized three assets in Dagster; daily_summary ran in-process with
    # its upstream assets.
    assert set(assets) == {"orders/raw_orders", "orders/cleaned_orders", "daily_summary"}
    for key in assets:
        assert (assets[key]["runs"], assets[key]["materializations"]) == (1, 1)
        assert assets[key]["inprocess_runs"] == 1


def test_inprocess_against_ui_timing(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    report = stats_json(cli, scenario, "--since", scenario.since)
    inprocess = report["inprocess"]
    assert (inprocess["total"], inprocess["succeeded"]) == (3, 3)
    rows = {(row["kind"], row["target"]): row for row in report["comparison"]}
    row = rows[("job", "configurable_job")]
    ui = statistics.fmean(durations(scenario, "SUCCESS", "configurable_job"))
    local = statistics.fmean(scenario.inprocess_seconds)
    assert (row["ui_runs"], row["inprocess_runs"]) == (3, 2)
    assert row["ui_mean_s"] == pytest.approx(ui, abs=1e-3)
    assert row["inprocess_mean_s"] == pytest.approx(local, abs=1e-3)
    assert row["ratio"] == pytest.approx(ui / local, rel=0.01)
    assert report["comparison"][0]["target"] == "configurable_job"  # compared rows first
    assert rows[("asset", "daily_summary")]["ui_runs"] == 0


def test_local_history_sweeps_and_exports(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    report = stats_json(cli, scenario, "--since", scenario.since)
    [sweep] = report["sweeps"]["last"]
    assert sweep["sweep_id"] == scenario.sweep_id and sweep["target"] == "configurable_job"
    assert (sweep["count"], sweep["successes"]) == (2, 2) and sweep["duration_s"] > 0
    exports = report["exports"]
    assert (exports["total"], exports["total_bytes"]) == (1, 4096)
    assert exports["last"][0]["path"] == scenario.export_path
    assert exports["last"][0]["asset"] == "daily_summary"
    by_kind = dict(report["history"]["by_kind"])
    assert by_kind.pop("audit") >= 2  # the sweep's launches are in the audit trail
    assert by_kind == {"inprocess": 3, "attach": 1, "export": 1, "sweep": 1}


def test_since_relative_and_in_the_future(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    recent = stats_json(cli, scenario, "--since", "2h")
    assert recent["runs"]["total"] >= 5  # other tests' runs may be in the window too
    assert recent["inprocess"]["total"] == 3
    later = datetime.fromtimestamp(time.time() + 3600).isoformat(timespec="seconds")
    none = stats_json(cli, scenario, "--since", later)
    assert none["runs"]["total"] == 0 and none["jobs"] == [] and none["inprocess"]["total"] == 0
    assert none["headline"].startswith("No runs launched by daglab since ")


def test_tables_for_people(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "stats", "--url", scenario.server.url, "--since", scenario.since, cwd=scenario.project
    )
    assert result.exit_code == 0, result
    text = result.stdout
    assert re.search(r"^5 runs launched by daglab since .*: 4 succeeded \(80%\), mean", text, re.M)
    for title in ("Runs by launcher", "Most-used jobs", "Most-used assets", "In-process vs UI"):
        assert title in text
    assert "configurable_job" in text and "orders/raw_orders" in text
    assert "Latest exports" in text and "daily_summary" in text
    assert scenario.sweep_id in text


def test_html_report_and_dashboard_notebook(cli, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    html = scenario.project / "stats.html"
    notebook = scenario.project / "stats_dashboard.py"
    report = stats_json(
        cli, scenario, "--since", scenario.since, "--html", str(html), "--notebook", str(notebook)
    )
    assert report["written"] == {"html": str(html), "notebook": str(notebook)}
    page = html.read_text()
    assert report["headline"] in page
    assert page.count("<svg") == 5
    assert "<script" not in page and not re.search(r"(src|href)\s*=|url\(|@import|<link", page)
    assert "configurable_job" in page and "orders/raw_orders" in page

    checked = subprocess.run(
        [sys.executable, "-m", "marimo", "check", "--strict", str(notebook)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exported = scenario.project / "dashboard.html"
    done = subprocess.run(
        [sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(exported)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=scenario.project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The notebook ran the same collection: its output holds the same headline and charts.
    output = exported.read_text()
    assert "5 runs launched by daglab since" in output
    assert "Most-used jobs" in output and "\\u003Csvg" in output


def test_pages_through_the_runs_and_stops_at_the_cap(scenario: Scenario) -> None:
    since = _stats.parse_since(scenario.since)
    with DagsterClient(DagsterSettings(url=scenario.server.url)) as client:  # type: ignore[call-arg]
        assert {"cli", "notebook", "sweep"} <= set(_stats.launcher_values(client))
        paged, truncated = _stats.fetch_runs(client, since=since, page_size=1)
        assert {r.run_id for r in paged} == set(scenario.runs) and not truncated
        assert [r.created for r in paged] == sorted((r.created for r in paged), reverse=True)
        assert {r.run_id: r.launcher for r in paged} == scenario.launchers
        capped, truncated = _stats.fetch_runs(client, since=since, max_runs=3, page_size=2)
        assert len(capped) == 3 and truncated
