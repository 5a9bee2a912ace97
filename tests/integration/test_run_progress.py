"""Waiting on a run against a real ``dagster dev``: its steps as the event log tells them, one
``--json`` report for every way a run ends, and ``--timeout`` bounding a wait for a queue slot."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from daglab._runs import REPORT_KEYS
from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer
from tests.integration.test_run import (
    MULTIPLY,
    daglab_in_flight,
    dagster_runs,
    env_for,
    terminate,
)

pytestmark = pytest.mark.dagster

FAILURE = "sample failure for daglab tests"


def daglab(server: DagsterServer, cwd: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_daglab(*args, cwd=cwd, env={**env_for(server), **(env or {})}, timeout=300)


def test_steps_are_shown_as_they_change_outside_a_terminal(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    ok = daglab(
        dagster_server, git_project, "run", "--job", "configurable_job", "--config-yaml", MULTIPLY
    )
    assert ok.exit_code == 0, ok
    lines = ok.stderr.splitlines()
    # one line per change, in order: each step starts, then succeeds with its time
    started = [i for i, line in enumerate(lines) if line.strip() == "▸ multiply running"]
    done = [i for i, line in enumerate(lines) if "✓ multiply succeeded in " in line]
    assert len(started) == 1 and len(done) == 1 and started[0] < done[0], ok.stderr
    assert any("✓ report succeeded in " in line and line.endswith(" s") for line in lines)
    assert any(line.startswith("run STARTED") for line in lines), ok.stderr

    failed = daglab(dagster_server, git_project, "run", "--job", "failing_job")
    assert failed.exit_code == 4, failed
    assert "✗ failing_op failed in " in failed.stderr
    # the step's error once: on its line, not again in the summary or the error message
    assert failed.stderr.count(FAILURE) == 1, failed.stderr
    assert "step failing_op failed (its error is above)" in failed.stderr

    quiet = daglab(
        dagster_server,
        git_project,
        "run",
        "--job",
        "configurable_job",
        "--config-yaml",
        MULTIPLY,
        "--quiet",
    )
    assert quiet.exit_code == 0, quiet
    assert quiet.stderr.strip() == "", quiet.stderr
    quiet_failure = daglab(dagster_server, git_project, "run", "--job", "failing_job", "-q")
    assert quiet_failure.exit_code == 4
    assert "running" not in quiet_failure.stderr
    assert quiet_failure.stderr.count(FAILURE) == 1, quiet_failure.stderr  # in the error


def test_one_json_report_for_success_and_failure(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    ok = daglab(
        dagster_server,
        git_project,
        "run",
        "--job",
        "configurable_job",
        "--config-yaml",
        MULTIPLY,
        "--json",
    )
    assert ok.exit_code == 0, ok
    success = json.loads(ok.stdout)
    assert tuple(success) == REPORT_KEYS
    assert success["error"] is None and success["exit_code"] == 0
    assert success["launch"] == "run" and success["partitions"] == []
    steps = {s["step"]: s for s in success["steps"]}
    assert set(steps) == {"multiply", "report"}
    for step in steps.values():
        assert step["status"] == "succeeded" and step["attempts"] == 1 and step["error"] is None
        assert step["ended"] >= step["started"] > success["created"] - 1
        assert 0 <= step["duration"] <= success["duration"] + 1

    bad = daglab(dagster_server, git_project, "run", "--job", "failing_job", "--json")
    assert bad.exit_code == 4, bad
    failure = json.loads(bad.stdout)
    assert tuple(failure) == REPORT_KEYS  # the same keys as a success
    assert failure["status"] == "FAILURE" and failure["exit_code"] == 4
    assert failure["error"]["exit_code"] == 4
    assert f"run {failure['run_id']} ended FAILURE" in failure["error"]["message"]
    assert FAILURE in failure["error"]["message"]  # nothing was shown before it: all in it
    assert failure["error"]["remediation"].startswith("See the run's logs at")
    [step] = failure["steps"]
    assert step["step"] == "failing_op" and step["status"] == "failed"
    assert FAILURE in step["error"]
    assert failure["failures"][0]["step"] == "failing_op"
    assert dagster_runs(dagster_server)[failure["run_id"]]["status"] == "FAILURE"

    # `daglab wait` reports a finished run the same way, and shows its steps
    again = daglab(dagster_server, git_project, "wait", failure["run_id"], "--json")
    assert again.exit_code == 4
    assert tuple(json.loads(again.stdout)) == REPORT_KEYS
    assert json.loads(again.stdout)["steps"] == failure["steps"]
    shown = daglab(dagster_server, git_project, "wait", success["run_id"])
    assert shown.exit_code == 0, shown
    assert "✓ multiply succeeded in " in shown.stderr and "SUCCESS in " in shown.stderr


def test_timeout_bounds_the_wait_for_a_queue_slot(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    limit = len(daglab_in_flight(dagster_server)) + 1
    env = {"DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": str(limit)}
    slow = "{ops: {sleep_op: {config: {seconds: 60}}}}"
    first = daglab(
        dagster_server,
        git_project,
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        slow,
        "--no-wait",
        "--json",
        env=env,
    )
    assert first.exit_code == 0, first
    holder = json.loads(first.stdout)["run_id"]
    try:
        before = set(dagster_runs(dagster_server))
        started = time.monotonic()
        queued = daglab(
            dagster_server,
            git_project,
            "run",
            "--job",
            "slow_job",
            "--config-yaml",
            slow,
            "--timeout",
            "3",
            env=env,
        )
        took = time.monotonic() - started
        assert queued.exit_code == 8, queued
        assert "waiting for a slot: position 1" in queued.stderr
        assert "no free slot" in queued.stderr and "nothing was launched" in queued.stderr
        assert 3 <= took < 3 + 20, took  # the wait ended at --timeout (start-up aside)
        assert set(dagster_runs(dagster_server)) == before
    finally:
        terminate(dagster_server, holder)


def test_the_event_document_reads_a_run_page_by_page(dagster_server: DagsterServer) -> None:
    from daglab._client import DagsterClient, JobRef
    from daglab._config_models import DagsterSettings
    from daglab._events import RunLog, iter_events, read_events

    settings = DagsterSettings(url=dagster_server.url)  # type: ignore[arg-type]
    with DagsterClient(settings, launched_by="test") as client:
        run = client.launch(JobRef("failing_job", "__repository__", "sample_location"))
        assert client.wait(run.run_id, timeout=240).status == "FAILURE"
        first = read_events(client, run.run_id, limit=3)
        assert first.run.status == "FAILURE"
        assert len(first.events) == 3 and first.has_more and first.cursor
        rest = [
            e for page in iter_events(client, run.run_id, cursor=first.cursor) for e in page.events
        ]
        everything = [e for page in iter_events(client, run.run_id) for e in page.events]
        assert [*first.events, *rest] == everything
        assert "RUN_FAILURE" in [e.type for e in everything]
        assert all(e.timestamp is not None and e.timestamp > 1.6e9 for e in everything)
        log = RunLog(run.run_id)
        changed = log.fetch(client)
        assert [s.key for s in changed] == ["failing_op"]
        assert log.steps["failing_op"].status == "failed"
        assert log.failures()[0].step == "failing_op"
        assert FAILURE in (log.failures()[0].cause or log.failures()[0].message)
        assert log.fetch(client) == []  # nothing new after the end
