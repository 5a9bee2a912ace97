"""`daglab run` against the real `dagster dev`: every outcome, checked in Dagster's records."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer, graphql

pytestmark = pytest.mark.dagster

MULTIPLY = "{ops: {multiply: {config: {multiplier: 2}}}}"
RUNS = "{ runsOrError { ... on Runs { results { runId jobName status tags { key value } } } } }"


def env_for(server: DagsterServer) -> dict[str, str]:
    return {"DAGLAB_DAGSTER__HOST": server.host, "DAGLAB_DAGSTER__PORT": str(server.port)}


def dagster_runs(server: DagsterServer) -> dict[str, dict]:
    results = graphql(server, RUNS)["data"]["runsOrError"]["results"]
    return {r["runId"]: r for r in results}


def terminate(server: DagsterServer, run_id: str) -> None:
    mutation = "mutation($id: String!) { terminateRun(runId: $id) { __typename } }"
    graphql(server, mutation, {"id": run_id})


def daglab_run(server: DagsterServer, cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_daglab("run", *args, cwd=cwd, env=env_for(server), timeout=300)


def test_job_run_succeeds_and_is_tagged(dagster_server: DagsterServer, git_project: Path) -> None:
    result = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "configurable_job",
        "--config-yaml",
        MULTIPLY,
        "--tag",
        "team=data",
        "--json",
    )
    assert result.exit_code == 0, result
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "SUCCESS"
    assert outcome["url"].endswith(f"/runs/{outcome['run_id']}")
    recorded = dagster_runs(dagster_server)[outcome["run_id"]]
    assert recorded["status"] == "SUCCESS"
    tags = {t["key"]: t["value"] for t in recorded["tags"]}
    assert tags["daglab/launched-by"] == "cli"
    assert tags["team"] == "data"


def test_run_config_from_a_file(dagster_server: DagsterServer, git_project: Path) -> None:
    (git_project / "run.yaml").write_text("ops:\n  multiply:\n    config:\n      multiplier: 3\n")
    result = daglab_run(
        dagster_server, git_project, "--job", "configurable_job", "--run-config", "run.yaml"
    )
    assert result.exit_code == 0, result
    assert "SUCCESS" in result.stderr
    assert "/runs/" in result.stderr


def test_asset_selection_and_pattern(dagster_server: DagsterServer, git_project: Path) -> None:
    picked = daglab_run(
        dagster_server,
        git_project,
        "--asset-selection",
        "orders/raw_orders,orders/cleaned_orders",
        "--json",
    )
    assert picked.exit_code == 0, picked
    run = dagster_runs(dagster_server)[json.loads(picked.stdout)["run_id"]]
    assert run["jobName"] == "__ASSET_JOB" and run["status"] == "SUCCESS"
    pattern = daglab_run(dagster_server, git_project, "--asset-pattern", "orders/raw_*", "--json")
    assert pattern.exit_code == 0, pattern
    assert json.loads(pattern.stdout)["status"] == "SUCCESS"


def test_failing_run_is_exit_4_with_the_error(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    result = daglab_run(dagster_server, git_project, "--job", "failing_job")
    assert result.exit_code == 4, result
    assert "failing_op" in result.stderr
    assert "sample failure for daglab tests" in result.stderr
    as_json = daglab_run(dagster_server, git_project, "--job", "failing_job", "--json")
    report = json.loads(as_json.stdout)
    assert report["exit_code"] == 4
    assert report["status"] == "FAILURE"
    assert report["failures"][0]["step"] == "failing_op"


def test_invalid_config_is_exit_7_and_creates_no_run(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    before = set(dagster_runs(dagster_server))
    result = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "configurable_job",
        "--config-yaml",
        "{ops: {multiply: {config: {multiplier: nope}}}}",
    )
    assert result.exit_code == 7, result
    assert "multiplier" in result.stderr
    assert set(dagster_runs(dagster_server)) == before


def test_validate_only_creates_no_run(dagster_server: DagsterServer, git_project: Path) -> None:
    before = set(dagster_runs(dagster_server))
    result = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "configurable_job",
        "--config-yaml",
        MULTIPLY,
        "--validate-only",
        "--json",
    )
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["valid"] is True
    assert set(dagster_runs(dagster_server)) == before


def test_no_wait_returns_at_once(dagster_server: DagsterServer, git_project: Path) -> None:
    result = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "slow_job",
        "--no-wait",
        "--json",
        "--config-yaml",
        "{ops: {sleep_op: {config: {seconds: 20}}}}",
    )
    assert result.exit_code == 0, result
    run_id = json.loads(result.stdout)["run_id"]
    assert dagster_runs(dagster_server)[run_id]["status"] in ("QUEUED", "STARTING", "STARTED")
    terminate(dagster_server, run_id)


def daglab_in_flight(server: DagsterServer) -> list[str]:
    query = (
        "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED, CANCELING]})"
        " { ... on Runs { results { runId tags { key } } } } }"
    )
    runs = graphql(server, query)["data"]["runsOrError"]["results"]
    return [r["runId"] for r in runs if any(t["key"] == "daglab/launched-by" for t in r["tags"])]


def test_no_wait_with_a_full_queue_answers_at_once(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    limit = len(daglab_in_flight(dagster_server)) + 1
    env = {**env_for(dagster_server), "DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": str(limit)}
    slow = "{ops: {sleep_op: {config: {seconds: 30}}}}"
    args = ("run", "--job", "slow_job", "--config-yaml", slow, "--no-wait", "--json")
    first = run_daglab(*args, cwd=git_project, env=env)
    assert first.exit_code == 0, first
    holder = json.loads(first.stdout)["run_id"]
    try:
        before = set(dagster_runs(dagster_server))
        second = run_daglab(*args, cwd=git_project, env=env, timeout=60)
        assert second.exit_code == 8, second
        report = json.loads(second.stdout)
        assert "no free slot" in report["message"]
        assert f"performance.max_concurrent_runs is {limit}" in report["message"]
        assert holder in report["details"]["in_flight"]
        assert set(dagster_runs(dagster_server)) == before
    finally:
        terminate(dagster_server, holder)


#: A step that sleeps much longer than any timeout below: the run is still going when it passes.
SLEEP_60 = "{ops: {sleep_op: {config: {seconds: 60}}}}"
FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
RUN_STEPS = (
    "query($id: ID!) { runOrError(runId: $id) { ... on Run {"
    " status stepStats { stepKey status } } } }"
)


def run_state(server: DagsterServer, run_id: str) -> tuple[str, dict[str, str]]:
    """Dagster's status of a run and the status of each of its steps."""
    run = graphql(server, RUN_STEPS, {"id": run_id})["data"]["runOrError"]
    return run["status"], {s["stepKey"]: s["status"] for s in run["stepStats"] or ()}


def until(server: DagsterServer, run_id: str, reached, what: str, limit: float = 300.0):  # type: ignore[no-untyped-def]
    """Poll the run until ``reached(status, steps)``; ``limit`` only bounds a hang (the time a
    run worker needs to start is the machine's, so it is awaited, never guessed)."""
    deadline = time.monotonic() + limit
    while not reached(*(state := run_state(server, run_id))):
        assert time.monotonic() < deadline, f"run {run_id} never {what}: {state}"
        time.sleep(0.5)
    return state


def test_timeout_without_cancel_keeps_the_run(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    kept = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "slow_job",
        "--config-yaml",
        SLEEP_60,
        "--timeout",
        "2",
        "--json",
    )
    assert kept.exit_code == 4, kept
    outcome = json.loads(kept.stdout)
    assert outcome["timed_out"] and not outcome["canceled"]
    run_id = outcome["run_id"]
    try:
        assert dagster_runs(dagster_server)[run_id]["status"] != "CANCELED"
    finally:
        terminate(dagster_server, run_id)
    # A run terminated while its worker starts is canceled once the worker is up: wait for
    # that here, so the worker does not compete with the tests that follow.
    until(dagster_server, run_id, lambda status, _: status in FINISHED, "ended")


def test_cancel_on_timeout_cancels_a_running_run(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    """The timeout passes while the step runs: daglab cancels and Dagster records CANCELED.

    Launched with --no-wait and followed by `daglab wait`, so the timeout starts once the step
    is running; with `run --timeout N` it would pass while the run worker still starts (slow
    under load, above all for older Dagster on Python 3.10), and Dagster then stays CANCELING
    until that worker is up.
    """
    launched = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "slow_job",
        "--config-yaml",
        SLEEP_60,
        "--no-wait",
        "--json",
    )
    assert launched.exit_code == 0, launched
    run_id = json.loads(launched.stdout)["run_id"]
    try:
        until(
            dagster_server,
            run_id,
            lambda status, steps: status == "STARTED" and steps.get("sleep_op") == "IN_PROGRESS",
            "started its step",
        )
        canceled = run_daglab(
            "wait",
            run_id,
            "--timeout",
            "1",
            "--cancel-on-timeout",
            "--json",
            cwd=git_project,
            env=env_for(dagster_server),
            timeout=300,
        )
    finally:
        terminate(dagster_server, run_id)  # a no-op once canceled; never leaves it running
    assert canceled.exit_code == 4, canceled
    outcome = json.loads(canceled.stdout)
    assert outcome["timed_out"] and outcome["canceled"], outcome
    assert outcome["status"] == "CANCELED", outcome
    assert dagster_runs(dagster_server)[run_id]["status"] == "CANCELED"


def test_run_cancel_on_timeout_asks_dagster_to_cancel(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    """`run --cancel-on-timeout` with a timeout that passes while the run is still queued or
    starting: daglab asks Dagster to cancel it and says so; Dagster cancels it once it can."""
    result = daglab_run(
        dagster_server,
        git_project,
        "--job",
        "slow_job",
        "--config-yaml",
        SLEEP_60,
        "--timeout",
        "0.5",
        "--cancel-on-timeout",
        "--json",
    )
    assert result.exit_code == 4, result
    outcome = json.loads(result.stdout)
    assert outcome["timed_out"] and outcome["canceled"], outcome
    if outcome["status"] != "CANCELED":
        assert f"was asked to cancel (now {outcome['status']})" in outcome["error"]["message"]
    status, _ = until(dagster_server, outcome["run_id"], lambda st, _: st in FINISHED, "ended")
    assert status == "CANCELED"


def test_sandbox_refuses_a_launch(dagster_server: DagsterServer, git_project: Path) -> None:
    before = set(dagster_runs(dagster_server))
    env = {**env_for(dagster_server), "DAGLAB_SECURITY__ALLOWED_OPERATIONS": '["getRunStatus"]'}
    result = run_daglab(
        "run",
        "--job",
        "configurable_job",
        "--config-yaml",
        MULTIPLY,
        "--sandbox",
        cwd=git_project,
        env=env,
    )
    assert result.exit_code == 6, result
    assert "sandbox" in result.stderr
    assert set(dagster_runs(dagster_server)) == before


def test_a_refused_cancel_says_the_run_keeps_running(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    env = {
        **env_for(dagster_server),
        "DAGLAB_SECURITY__ALLOWED_OPERATIONS": '["launchRun", "getRunStatus"]',
    }
    result = run_daglab(
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        "{ops: {sleep_op: {config: {seconds: 30}}}}",
        "--timeout",
        "2",
        "--cancel-on-timeout",
        "--sandbox",
        "--json",
        cwd=git_project,
        env=env,
        timeout=120,
    )
    assert result.exit_code == 6, result
    report = json.loads(result.stdout)
    run_id = report["details"]["run"]["run_id"]
    assert f"run {run_id} did not finish within 2 s and is still" in report["message"]
    assert "canceling it was refused" in report["message"]
    assert "It keeps running" in report["remediation"]
    assert dagster_runs(dagster_server)[run_id]["status"] in ("QUEUED", "STARTING", "STARTED")
    terminate(dagster_server, run_id)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--job", "configurable_jb"], 7),
        (["--job", "configurable_job", "--asset-pattern", "x"], 2),
        ([], 2),
        (["--asset-selection", "orders/nope"], 7),
        (["--job", "configurable_job", "--config-yaml", "[1, 2]"], 7),
        (["--job", "configurable_job", "--config-yaml", "{a: [unclosed"], 7),
        (["--job", "configurable_job", "--run-config", "missing.yaml"], 7),
    ],
)
def test_bad_input(
    dagster_server: DagsterServer, git_project: Path, args: list[str], code: int
) -> None:
    result = daglab_run(dagster_server, git_project, *args)
    assert result.exit_code == code, result
    assert "→" in result.stderr
