"""An auth-enforcing proxy and a vanishing webserver, in front of the real `dagster dev`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_dg_project, run_daglab
from tests.dagster_server import DagsterServer, graphql
from tests.proxy import Proxy

pytestmark = pytest.mark.dagster

TOKEN = "s3cret-bearer-7f2a91"
SLOW = "{ops: {sleep_op: {config: {seconds: 4}}}}"


@pytest.fixture
def proxy(dagster_server: DagsterServer) -> Iterator[Proxy]:
    running = Proxy(dagster_server.url)
    yield running
    running.close()


@pytest.fixture
def auth_proxy(dagster_server: DagsterServer) -> Iterator[Proxy]:
    running = Proxy(dagster_server.url, token=TOKEN)
    yield running
    running.close()


def env_for(proxy: Proxy, **extra: str) -> dict[str, str]:
    return {"DAGLAB_DAGSTER__URL": proxy.url, **extra}


def test_without_a_token_exit_6(auth_proxy: Proxy, git_project: Path) -> None:
    result = run_daglab("discover", cwd=git_project, env=env_for(auth_proxy))
    assert result.exit_code == 6, result
    assert "refused the credentials" in result.stderr
    wrong = run_daglab(
        "discover",
        "--auth-token",
        "nope-nope",
        cwd=git_project,
        env=env_for(auth_proxy, DAGLAB_DAGSTER__AUTH__TYPE="bearer"),
    )
    assert wrong.exit_code == 6


def test_with_the_token_everything_works_and_it_never_leaks(
    auth_proxy: Proxy, git_project: Path
) -> None:
    make_dg_project(git_project)
    (git_project / ".daglab").mkdir()
    env = env_for(auth_proxy, DAGLAB_DAGSTER__AUTH__TYPE="bearer", DAGSTER_GRAPHQL_TOKEN=TOKEN)
    found = run_daglab("--log-level", "DEBUG", "discover", "--json", cwd=git_project, env=env)
    assert found.exit_code == 0, found
    assert "configurable_job" in {j["name"] for j in json.loads(found.stdout)["jobs"]}
    ran = run_daglab(
        "--log-level",
        "DEBUG",
        "run",
        "--job",
        "configurable_job",
        "--config-yaml",
        "{ops: {multiply: {config: {multiplier: 1}}}}",
        cwd=git_project,
        env=env,
        timeout=300,
    )
    assert ran.exit_code == 0, ran
    flag = run_daglab(
        "discover",
        "--filter",
        "locations",
        "--auth-token",
        TOKEN,
        "--log-level",
        "DEBUG",
        cwd=git_project,
        env=env_for(auth_proxy, DAGLAB_DAGSTER__AUTH__TYPE="bearer"),
    )
    assert flag.exit_code == 0, flag
    log = (git_project / ".daglab" / "daglab.log").read_text()
    for text in (found.stdout, found.stderr, ran.stdout, ran.stderr, flag.stdout, flag.stderr, log):
        assert TOKEN not in text


def test_webserver_gone_during_wait_says_how_to_resume(
    proxy: Proxy, dagster_server: DagsterServer, git_project: Path
) -> None:
    env = env_for(
        proxy,
        DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES="2",
        DAGLAB_DAGSTER__GRAPHQL__WAIT_OUTAGE_SECONDS="3",
    )
    cmd = [
        str(Path(sys.executable).parent / "daglab"),
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        SLOW,
        "--json",
    ]
    started = time.monotonic()
    child = subprocess.Popen(
        cmd,
        cwd=git_project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not (  # launched and polling
            "DaglabLaunchRun" in proxy.operations and proxy.operations[-1:] == ["DaglabRun"]
        )
    ):
        time.sleep(0.1)
    proxy.down()
    out, err = child.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert child.returncode == 5, (out, err)
    assert "Traceback" not in err
    assert elapsed < 30
    report = json.loads(out)
    run_id = report["details"]["run_id"]
    assert f"while waiting for run {run_id}" in report["message"]
    assert report["details"]["url"] == f"{proxy.url}/runs/{run_id}"
    assert f"daglab wait {run_id}" in report["remediation"]
    assert report["details"]["resume"] == f"daglab wait {run_id}"
    runs = graphql(dagster_server, "{ runsOrError { ... on Runs { results { runId } } } }")
    assert run_id in {r["runId"] for r in runs["data"]["runsOrError"]["results"]}

    proxy.up()
    resumed = run_daglab("wait", run_id, "--json", cwd=git_project, env=env, timeout=120)
    assert resumed.exit_code == 0, resumed
    outcome = json.loads(resumed.stdout)
    assert outcome["run_id"] == run_id and outcome["status"] == "SUCCESS"


def test_wait_for_a_failed_run_is_exit_4(proxy: Proxy, git_project: Path) -> None:
    launched = run_daglab(
        "run", "--job", "failing_job", "--no-wait", "--json", cwd=git_project, env=env_for(proxy)
    )
    assert launched.exit_code == 0, launched
    run_id = json.loads(launched.stdout)["run_id"]
    waited = run_daglab("wait", run_id, cwd=git_project, env=env_for(proxy), timeout=120)
    assert waited.exit_code == 4, waited
    assert "sample failure for daglab tests" in waited.stderr
    unknown = run_daglab("wait", "no-such-run", cwd=git_project, env=env_for(proxy))
    assert unknown.exit_code == 7, unknown
    assert "no-such-run" in unknown.stderr


def test_a_server_that_never_answers_is_given_up_within_the_budget(git_project: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept_and_say_nothing)
    acceptor.start()
    port = listener.getsockname()[1]
    try:
        started = time.monotonic()
        result = run_daglab(
            "discover",
            "--json",
            cwd=git_project,
            env={
                "DAGLAB_DAGSTER__URL": f"http://127.0.0.1:{port}",
                "DAGLAB_DAGSTER__GRAPHQL__TIMEOUT": "2",
                "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "10",
                "DAGLAB_DAGSTER__GRAPHQL__RETRY_BUDGET_SECONDS": "4",
            },
            timeout=120,
        )
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        acceptor.join()
        for conn in held:
            conn.close()
        listener.close()
    assert result.exit_code == 5, result
    assert elapsed < 4 + 5, elapsed
    report = json.loads(result.stdout)
    assert held, "the client never connected"
    assert f"no answer from http://127.0.0.1:{port}/graphql within" in report["message"]
    assert re.search(r"gave up on getRepositories after [\d.]+ s, \d+ attempt", report["message"])
    assert "budget 4 s" in report["message"]
    assert report["details"]["endpoint"] == f"http://127.0.0.1:{port}/graphql"


def test_webserver_back_within_the_retry_window(proxy: Proxy, git_project: Path) -> None:
    env = env_for(proxy, DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES="6")

    def blink() -> None:
        # once the run is launched and being polled: the outage hits the wait, not the launch
        while proxy.operations[-1:] != ["DaglabRun"] or ("DaglabLaunchRun" not in proxy.operations):
            time.sleep(0.05)
        proxy.down()
        time.sleep(1.0)
        proxy.up()

    flicker = threading.Thread(target=blink)
    flicker.start()
    result = run_daglab(
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        SLOW,
        "--json",
        cwd=git_project,
        env=env,
        timeout=120,
    )
    flicker.join()
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["status"] == "SUCCESS"
