"""``daglab logs``: a real run's event log, paged with a cursor and followed to the run's end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer
from tests.integration.test_run import env_for

pytestmark = pytest.mark.dagster


def logs(server: DagsterServer, cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_daglab("logs", *args, cwd=cwd, env=env_for(server), timeout=300)


def launch(server: DagsterServer, cwd: Path, *args: str) -> str:
    result = run_daglab("run", *args, "--json", cwd=cwd, env=env_for(server), timeout=300)
    assert result.exit_code in (0, 4), result
    return str(json.loads(result.stdout)["run_id"])


def test_pages_through_a_run_and_filters(dagster_server: DagsterServer, git_project: Path) -> None:
    run_id = launch(dagster_server, git_project, "--job", "failing_job")
    whole = logs(dagster_server, git_project, run_id, "--json")
    assert whole.exit_code == 0, whole
    everything = json.loads(whole.stdout)
    assert everything["run"]["status"] == "FAILURE" and everything["has_more"] is False
    assert len(everything["events"]) > 6
    paged: list[dict[str, object]] = []
    cursor: str | None = None
    pages = 0
    while True:
        args = [run_id, "--limit", "3", "--json", *(["--cursor", cursor] if cursor else [])]
        page = json.loads(logs(dagster_server, git_project, *args).stdout)
        paged += page["events"]
        pages += 1
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert pages > 2
    assert paged == everything["events"]
    errors = json.loads(
        logs(dagster_server, git_project, run_id, "--level", "ERROR", "--json").stdout
    )["events"]
    assert errors and all(e["level"] in ("ERROR", "CRITICAL") for e in errors)
    assert any("sample failure" in json.dumps(e) for e in errors)
    step = json.loads(
        logs(dagster_server, git_project, run_id, "--step", "failing_op", "--json").stdout
    )["events"]
    assert step and {e["step"] for e in step} == {"failing_op"}
    text = logs(dagster_server, git_project, run_id, "--level", "ERROR")
    assert text.exit_code == 0 and "STEP_FAILURE" in text.stdout
    assert "sample failure" in text.stdout
    unknown = logs(dagster_server, git_project, "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    assert unknown.exit_code == 7, unknown
    bad = logs(dagster_server, git_project, run_id, "--level", "LOUD")
    assert bad.exit_code == 2 and "DEBUG" in bad.stderr


def test_follow_ends_when_the_run_ends(dagster_server: DagsterServer, git_project: Path) -> None:
    config = "{ops: {sleep_op: {config: {seconds: 4}}}}"
    run_id = launch(
        dagster_server, git_project, "--job", "slow_job", "--config-yaml", config, "--no-wait"
    )
    started = time.monotonic()
    followed = logs(dagster_server, git_project, run_id, "--follow", "--json")
    took = time.monotonic() - started
    assert followed.exit_code == 0, followed
    lines = [json.loads(line) for line in followed.stdout.splitlines()]
    types = [line["type"] for line in lines]
    # the run's end is read (Dagster may log its process exiting just after)
    assert "RUN_SUCCESS" in types and types.index("STEP_START") < types.index("RUN_SUCCESS")
    assert took < 240
    assert "sleeping for 4" in followed.stdout
