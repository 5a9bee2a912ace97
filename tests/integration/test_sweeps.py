"""Sweeps against the real `dagster dev`: one run per config, tagged, bounded, summarised."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer, graphql

pytestmark = pytest.mark.dagster

RUNS = (
    "query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs {"
    " results { runId status startTime endTime tags { key value } } } } }"
)


def env_for(server: DagsterServer) -> dict[str, str]:
    return {"DAGLAB_DAGSTER__HOST": server.host, "DAGLAB_DAGSTER__PORT": str(server.port)}


def sweep_runs(server: DagsterServer, sweep_id: str) -> list[dict]:
    answer = graphql(server, RUNS, {"tags": [{"key": "daglab/sweep", "value": sweep_id}]})
    return answer["data"]["runsOrError"]["results"]


def all_run_ids(server: DagsterServer) -> set[str]:
    answer = graphql(server, "{ runsOrError { ... on Runs { results { runId } } } }")
    return {r["runId"] for r in answer["data"]["runsOrError"]["results"]}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_sweep_runs_every_config(dagster_server: DagsterServer, git_project: Path) -> None:
    write(
        git_project / "configs.py",
        "def config_gen():\n"
        "    for m in (1, 2, 3):\n"
        "        yield f'm={m}', {'ops': {'multiply': {'config': {'multiplier': m}}}}\n",
    )
    result = run_daglab(
        "run",
        "--job",
        "configurable_job",
        "--sweep",
        "configs.py",
        "--json",
        cwd=git_project,
        env=env_for(dagster_server),
        timeout=300,
    )
    assert result.exit_code == 0, result
    payload = json.loads(result.stdout)
    assert [r["label"] for r in payload["results"]] == ["m=1", "m=2", "m=3"]
    assert all(r["status"] == "SUCCESS" for r in payload["results"])
    recorded = sweep_runs(dagster_server, payload["sweep_id"])
    assert len(recorded) == 3
    for run in recorded:
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags["daglab/launched-by"] == "sweep"
        assert tags["daglab/sweep-index"] in {"0", "1", "2"}


def test_failures_exit_4_with_a_summary(dagster_server: DagsterServer, git_project: Path) -> None:
    write(git_project / "configs.py", "CONFIG = [{}, {}]\n")
    result = run_daglab(
        "run",
        "--job",
        "failing_job",
        "--sweep",
        "configs.py",
        "--sequential",
        cwd=git_project,
        env={**env_for(dagster_server), "COLUMNS": "200"},
        timeout=300,
    )
    assert result.exit_code == 4, result
    assert "2 of 2 sweep run(s) did not succeed" in result.stderr
    assert "FAILURE" in result.stdout  # the summary table
    assert "sample failure" in result.stdout


def test_invalid_configs_launch_nothing(dagster_server: DagsterServer, git_project: Path) -> None:
    write(
        git_project / "configs.py",
        "CONFIG = [{'ops': {'multiply': {'config': {'multiplier': 1}}}}, {}]\n",
    )
    result = run_daglab(
        "config",
        "validate",
        "configs.py",
        "--job",
        "configurable_job",
        cwd=git_project,
        env=env_for(dagster_server),
    )
    assert result.exit_code == 7, result
    assert "config #1" in result.stderr
    before = all_run_ids(dagster_server)
    launched = run_daglab(
        "run",
        "--job",
        "configurable_job",
        "--sweep",
        "configs.py",
        "--json",
        cwd=git_project,
        env=env_for(dagster_server),
    )
    assert launched.exit_code == 7
    assert json.loads(launched.stdout)["exit_code"] == 7
    assert "config #1" in json.loads(launched.stdout)["message"]
    assert all_run_ids(dagster_server) == before  # not even the valid config #0 ran


def test_a_sandboxed_sweep_is_exit_6_and_launches_nothing(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    write(git_project / "configs.py", "CONFIG = [{}, {}]\n")
    before = all_run_ids(dagster_server)
    env = {**env_for(dagster_server), "DAGLAB_SECURITY__ALLOWED_OPERATIONS": '["getRunStatus"]'}
    result = run_daglab(
        "run",
        "--job",
        "failing_job",
        "--sweep",
        "configs.py",
        "--sandbox",
        "--json",
        cwd=git_project,
        env=env,
    )
    assert result.exit_code == 6, result
    report = json.loads(result.stdout)
    assert "sandbox mode refuses launchRun" in report["message"]
    results = report["details"]["results"]
    assert {r["status"] for r in results} <= {"ERROR", "SKIPPED"}
    assert all(r["run_id"] is None for r in results)
    assert all_run_ids(dagster_server) == before


def test_config_show_prints_the_generated_configs(git_project: Path) -> None:
    write(git_project / "configs.py", "CONFIG = [{'a': 1}, ('named', {'b': 2})]\n")
    result = run_daglab("config", "show", "configs.py", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    configs = json.loads(result.stdout)["configs"]
    assert [(c["label"], c["config"]) for c in configs] == [("#0", {"a": 1}), ("named", {"b": 2})]
    broken = write(git_project / "broken.py", "CONFIG = 3\n")
    bad = run_daglab("config", "show", str(broken), cwd=git_project)
    assert bad.exit_code == 7
    assert "broken.py" in bad.stderr


def test_concurrency_bound_is_never_exceeded(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    write(
        git_project / "configs.py",
        "CONFIG = [{'ops': {'sleep_op': {'config': {'seconds': 3}}}} for _ in range(4)]\n",
    )
    env = {**env_for(dagster_server), "DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": "2"}
    in_flight_seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        query = (
            "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED,"
            " CANCELING]}) { ... on Runs { results { tags { key } } } } }"
        )
        while not done.is_set():
            runs = graphql(dagster_server, query)["data"]["runsOrError"]["results"]
            in_flight_seen.append(
                sum(any(t["key"] == "daglab/sweep" for t in r["tags"]) for r in runs)
            )
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = run_daglab(
            "run",
            "--job",
            "slow_job",
            "--sweep",
            "configs.py",
            "--parallel",
            "4",
            "--json",
            cwd=git_project,
            env=env,
            timeout=300,
        )
    finally:
        done.set()
        watcher.join()
    assert result.exit_code == 0, result
    assert max(in_flight_seen) == 2, in_flight_seen
    runs = sweep_runs(dagster_server, json.loads(result.stdout)["sweep_id"])
    assert len(runs) == 4 and all(r["status"] == "SUCCESS" for r in runs)


def test_two_sweeps_at_once_never_exceed_the_bound(
    dagster_server: DagsterServer, git_project: Path
) -> None:
    """Two daglab processes share one bound: counted in Dagster, taken under a file lock."""
    import os
    import subprocess
    import sys

    write(
        git_project / "configs.py",
        "CONFIG = [{'ops': {'sleep_op': {'config': {'seconds': 3}}}} for _ in range(4)]\n",
    )
    env = {
        **os.environ,
        **env_for(dagster_server),
        "DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": "3",
    }
    in_flight_seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        query = (
            "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED,"
            " CANCELING]}) { ... on Runs { results { tags { key } } } } }"
        )
        while not done.is_set():
            runs = graphql(dagster_server, query)["data"]["runsOrError"]["results"]
            in_flight_seen.append(
                sum(any(t["key"] == "daglab/launched-by" for t in r["tags"]) for r in runs)
            )
            time.sleep(0.1)

    exe = str(Path(sys.executable).parent / "daglab")
    cmd = [exe, "run", "--job", "slow_job", "--sweep", "configs.py", "--parallel", "3", "--json"]
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        children = [
            subprocess.Popen(
                cmd, cwd=git_project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        outputs = [child.communicate(timeout=300) for child in children]
    finally:
        done.set()
        watcher.join()
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, (out, err)
    assert max(in_flight_seen) <= 3, in_flight_seen
    assert max(in_flight_seen) >= 2, in_flight_seen  # the two sweeps did overlap
    for out, _ in outputs:
        runs = sweep_runs(dagster_server, json.loads(out)["sweep_id"])
        assert len(runs) == 4 and all(r["status"] == "SUCCESS" for r in runs)
