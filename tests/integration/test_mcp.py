"""``daglab mcp`` spawned by the official SDK's stdio client, against the real ``dagster dev``
behind the test auth proxy (a bearer token the server gets only from its variable)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcp import ClientSession
from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer, graphql
from tests.proxy import Proxy

pytestmark = pytest.mark.dagster

TOKEN = "mcp-t0ken-5d81c2e9"
RUNS = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"
READ_ONLY = {
    "discover",
    "validate_run_config",
    "default_run_config",
    "get_run",
    "list_runs",
    "wait_for_run",
    "run_logs",
    "asset_partitions",
    "config_show",
    "stats",
    "doctor",
}


@pytest.fixture
def auth_proxy(dagster_server: DagsterServer) -> Iterator[Proxy]:
    running = Proxy(dagster_server.url, token=TOKEN)
    yield running
    running.close()


def server_env(proxy: Proxy) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k.startswith(("PATH", "HOME", "DAGSTER"))},
        "DAGLAB_DAGSTER__URL": proxy.url,
        "DAGLAB_DAGSTER__AUTH__TYPE": "bearer",
        "DAGSTER_GRAPHQL_TOKEN": TOKEN,
    }


def call(
    proxy: Proxy,
    project: Path,
    steps: Any,
    *allow: str,
    errlog: Path | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    """Spawn ``daglab mcp`` (with ``--allow`` each of ``allow``), run ``steps(session)``."""
    exe = str(Path(sys.executable).parent / "daglab")
    args = ["mcp", "--project", str(project), *[a for op in allow for a in ("--allow", op)]]
    params = StdioServerParameters(
        command=exe, args=args, env={**server_env(proxy), **(env or {})}, cwd=project
    )

    async def main() -> Any:
        with (errlog or project / "mcp-stderr.txt").open("w") as err:
            async with (
                stdio_client(params, errlog=err) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await steps(session)

    return anyio.run(main)


def payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


def error(result: Any) -> dict[str, Any]:
    assert result.is_error, result
    text = result.content[0].text  # "Error executing tool NAME: {...}"
    return json.loads(text[text.index("{") :])


def runs(server: DagsterServer) -> list[dict[str, Any]]:
    return graphql(server, RUNS)["data"]["runsOrError"]["results"]


def stop(server: DagsterServer, run_id: str) -> None:
    """Terminate a run and wait until it has ended: the server is shared, and other tests count
    daglab's runs in flight."""
    graphql(server, "mutation { terminateRun(runId: " + json.dumps(run_id) + ") { __typename } }")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = {r["runId"]: r["status"] for r in runs(server)}.get(run_id)
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not end within 180 s of its termination")


def test_read_only_by_default_and_discover_matches_the_cli(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path
) -> None:
    before = len(runs(dagster_server))

    async def steps(session: ClientSession) -> Any:
        listed = await session.list_tools()
        found = await session.call_tool("discover", {"kinds": ["jobs", "assets"]})
        refused = await session.call_tool("launch_run", {"job": "configurable_job"})
        return listed, found, refused

    listed, found, refused = call(auth_proxy, git_project, steps)
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == READ_ONLY
    assert all(tool.annotations.read_only_hint for tool in tools.values())
    assert all(tool.output_schema for tool in tools.values())
    cli = run_daglab(
        "discover",
        "--json",
        "--filter",
        "jobs",
        "--filter",
        "assets",
        cwd=git_project,
        env=server_env(auth_proxy),
    )
    assert cli.exit_code == 0, cli
    shown = payload(found)
    assert shown["truncated"] == {}
    assert {k: v for k, v in shown.items() if k != "truncated"} == json.loads(cli.stdout)
    problem = error(refused)
    assert problem["exit_code"] == 6 and "--allow launchRun" in problem["remediation"]
    assert "DaglabLaunchRun" not in auth_proxy.operations
    assert len(runs(dagster_server)) == before


def test_bad_config_is_named_and_launches_nothing(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path
) -> None:
    before = len(runs(dagster_server))
    bad = {"ops": {"multiply": {"config": {"multiplier": "three"}}}}

    async def steps(session: ClientSession) -> Any:
        checked = await session.call_tool(
            "validate_run_config", {"job": "configurable_job", "run_config": bad}
        )
        launched = await session.call_tool(
            "launch_run", {"job": "configurable_job", "run_config": bad}
        )
        return checked, launched

    checked, launched = call(auth_proxy, git_project, steps, "launchRun")
    verdict = payload(checked)
    assert verdict["valid"] is False
    assert any("multiplier" in p["message"] for p in verdict["problems"])
    assert error(launched)["exit_code"] == 7
    assert len(runs(dagster_server)) == before


def test_launch_wait_and_a_failing_run(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path
) -> None:
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def steps(session: ClientSession) -> Any:
        config = {"ops": {"multiply": {"config": {"multiplier": 2}}}}
        launched = payload(
            await session.call_tool("launch_run", {"job": "configurable_job", "run_config": config})
        )
        waited = payload(
            await session.call_tool(
                "wait_for_run",
                {"run_id": launched["run_id"], "timeout": 300},
                progress_callback=on_progress,
            )
        )
        ended = time.time()
        failed = payload(
            await session.call_tool(
                "launch_run", {"job": "failing_job", "wait": True, "timeout": 300}
            )
        )
        failing = failed
        whole = payload(
            await session.call_tool("run_logs", {"run_id": failing["run_id"], "limit": 1000})
        )
        paged, cursor = [], None
        while True:
            page = payload(
                await session.call_tool(
                    "run_logs", {"run_id": failing["run_id"], "limit": 4, "cursor": cursor}
                )
            )
            paged += page["events"]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert paged == whole["events"] and len(paged) > 4
        slow = payload(
            await session.call_tool(
                "launch_run",
                {
                    "job": "slow_job",
                    "run_config": {"ops": {"sleep_op": {"config": {"seconds": 20}}}},
                },
            )
        )
        short = payload(
            await session.call_tool("wait_for_run", {"run_id": slow["run_id"], "timeout": 1})
        )
        terminated = await session.call_tool("terminate_run", {"run_id": slow["run_id"]})
        return launched, waited, ended, failed, short, terminated

    launched, waited, ended, failed, short, terminated = call(
        auth_proxy, git_project, steps, "launchRun"
    )
    assert launched["tags"]["daglab/launched-by"] == "mcp"
    assert waited["status"] == "SUCCESS" and waited["timed_out"] is False
    assert progress and progress[-1].startswith("SUCCESS")
    assert ended - waited["ended"] <= 0.5 + 2.0  # poll lag + one tool round trip, loaded machine
    assert failed["status"] == "FAILURE"
    assert any("sample failure" in (f["cause"] or f["message"]) for f in failed["failures"])
    assert short["timed_out"] is True and short["status"] != "SUCCESS"
    assert error(terminated)["exit_code"] == 6  # only launchRun is allowed
    still = [r for r in runs(dagster_server) if r["runId"] == short["run_id"]]
    assert still and still[0]["status"] not in ("CANCELED", "CANCELING")
    stop(dagster_server, short["run_id"])


def test_no_token_anywhere(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path, tmp_path: Path
) -> None:
    errlog = tmp_path / "stderr.txt"

    async def steps(session: ClientSession) -> Any:
        shown = await session.call_tool("config_show", {})
        run = await session.call_tool("get_run", {"run_id": "0" * 8 + "-no-such-run"})
        return shown, run

    shown, missing = call(auth_proxy, git_project, steps, errlog=errlog)
    config = payload(shown)
    assert config["token_variable"] == "DAGSTER_GRAPHQL_TOKEN"
    assert missing.is_error
    texts = [json.dumps(config), missing.content[0].text, errlog.read_text()]
    daglab_dir = git_project / ".daglab"
    if daglab_dir.is_dir():
        texts += [p.read_text(errors="replace") for p in daglab_dir.rglob("*") if p.is_file()]
    assert not [text for text in texts if TOKEN in text]


def test_paths_stay_inside_the_project(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path, tmp_path: Path
) -> None:
    shutil.copytree(dagster_server.project_dir, git_project, dirs_exist_ok=True)
    (git_project / ".daglab").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    notebooks = git_project / "notebooks"
    notebooks.mkdir()
    (notebooks / "out").symlink_to(outside)
    escapes = ["../../escaped.py", str(outside / "abs.py"), "out/linked.py"]

    async def steps(session: ClientSession) -> Any:
        refused = [
            await session.call_tool(
                "scaffold_notebook", {"job": "configurable_job", "filename": name}
            )
            for name in escapes
        ]
        made = await session.call_tool(
            "scaffold_notebook", {"job": "configurable_job", "filename": "configurable.py"}
        )
        made_path = payload(made)["path"]
        relative = str(Path(made_path).relative_to(git_project.resolve()))
        export_refused = [
            await session.call_tool("export_notebook", {"notebook": relative, "output": name})
            for name in ("../escaped.html", str(outside / "abs.html"), "notebooks/out/x.html")
        ]
        source_refused = await session.call_tool("export_notebook", {"notebook": "../x.py"})
        exported = await session.call_tool("export_notebook", {"notebook": relative})
        return refused, made_path, export_refused, source_refused, exported

    refused, made_path, export_refused, source_refused, exported = call(
        auth_proxy, git_project, steps, "scaffoldNotebook", "exportNotebook"
    )
    for result in [*refused, *export_refused, source_refused]:
        assert error(result)["exit_code"] == 7
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escaped.py").exists() and not (tmp_path / "escaped.html").exists()
    assert Path(made_path).is_file()
    html = Path(payload(exported)["export"]["path"])
    assert html.is_file() and html.resolve().is_relative_to(git_project.resolve())
    history = (git_project / ".daglab" / "history.jsonl").read_text()
    audits = [json.loads(line) for line in history.splitlines() if '"audit"' in line]
    assert {(a["operation"], a["outcome"]) for a in audits} >= {
        ("scaffoldNotebook", "ok"),
        ("exportNotebook", "ok"),
        ("scaffoldNotebook", "error: ValidationError"),
    }
    assert all(a["origin"] == "mcp" for a in audits)


def test_a_refusal_is_recorded(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path
) -> None:
    (git_project / ".daglab").mkdir()

    async def steps(session: ClientSession) -> Any:
        return await session.call_tool("terminate_run", {"run_id": "abc-123"})

    assert error(call(auth_proxy, git_project, steps))["exit_code"] == 6
    history = (git_project / ".daglab" / "history.jsonl").read_text()
    event = json.loads(history.splitlines()[-1])
    assert event["kind"] == "audit" and event["outcome"] == "refused"
    assert event["operation"] == "terminateRun" and event["run_id"] == "abc-123"


def test_http_listens_on_loopback_and_refuses_a_forged_host(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path, tmp_path: Path
) -> None:
    import socket
    import subprocess

    import httpx
    import psutil
    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exe = str(Path(sys.executable).parent / "daglab")
    stderr = (tmp_path / "http-stderr.txt").open("w")
    server = subprocess.Popen(
        [exe, "mcp", "--transport", "http", "--port", str(port), "--project", str(git_project)],
        env={**os.environ, **server_env(auth_proxy)},
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        listening = [
            c.laddr
            for c in psutil.Process(server.pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        forged = httpx.post(
            url,
            json=body,
            headers={"Host": f"evil.example:{port}", "Accept": "application/json"},
            timeout=10,
        )
        assert forged.status_code == 421

        async def main() -> Any:
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await session.list_tools()

        listed = anyio.run(main)
        assert {tool.name for tool in listed.tools} == READ_ONLY
        assert server.stdout is not None
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        stderr.close()
    with server.stdout:
        assert server.stdout.read() == b""  # over http, stdout carries nothing at all
    assert TOKEN not in (tmp_path / "http-stderr.txt").read_text()


def test_an_outage_during_a_wait_is_exit_5_in_bounded_time_then_calls_work_again(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path
) -> None:
    budget = 4.0
    auth_proxy_env = {"DAGLAB_DAGSTER__GRAPHQL__RETRY_BUDGET_SECONDS": str(budget)}

    async def steps(session: ClientSession) -> Any:
        config = {"ops": {"sleep_op": {"config": {"seconds": 30}}}}
        slow = payload(
            await session.call_tool("launch_run", {"job": "slow_job", "run_config": config})
        )

        async def outage() -> None:
            await anyio.sleep(2)
            await anyio.to_thread.run_sync(auth_proxy.down)

        async with anyio.create_task_group() as group:
            group.start_soon(outage)
            started = time.monotonic()
            lost = await session.call_tool(
                "wait_for_run", {"run_id": slow["run_id"], "timeout": 120}
            )
            took = time.monotonic() - started
        auth_proxy.up()
        again = await session.call_tool("get_run", {"run_id": slow["run_id"]})
        return slow, lost, took, again

    slow, lost, took, again = call(auth_proxy, git_project, steps, "launchRun", env=auth_proxy_env)
    try:
        assert error(lost)["exit_code"] == 5
        assert took < 2 + budget + 15, took
        assert payload(again)["run_id"] == slow["run_id"]
    finally:
        stop(dagster_server, slow["run_id"])


def test_credentials_appear_nowhere_on_401_and_500(
    dagster_server: DagsterServer, auth_proxy: Proxy, git_project: Path, tmp_path: Path
) -> None:
    (git_project / ".daglab").mkdir()
    password = "pw-9c1e77ab"
    host = auth_proxy.url.removeprefix("http://")
    wrong = {
        "DAGLAB_DAGSTER__URL": f"http://someone:{password}@{host}",
        "DAGSTER_GRAPHQL_TOKEN": TOKEN + "-wrong",
    }
    errlog = tmp_path / "stderr.txt"

    async def steps(session: ClientSession) -> Any:
        refused = await session.call_tool("discover", {})
        broken = await session.call_tool(
            "validate_run_config", {"job": "configurable_job", "run_config": {"ops": 5}}
        )
        shown = await session.call_tool("config_show", {})
        return refused, broken, shown

    refused, broken, shown = call(auth_proxy, git_project, steps, env=wrong, errlog=errlog)
    assert error(refused)["exit_code"] == 6
    assert broken.is_error

    # The right token, and a server whose 500 page echoes the request's headers back.
    right = {**wrong, "DAGSTER_GRAPHQL_TOKEN": TOKEN, "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0"}
    errlog_500 = tmp_path / "stderr-500.txt"

    async def failing(session: ClientSession) -> Any:
        return await session.call_tool("discover", {})

    auth_proxy.fail_status = 500
    try:
        failed = call(auth_proxy, git_project, failing, env=right, errlog=errlog_500)
    finally:
        auth_proxy.fail_status = None
    assert failed.is_error
    assert error(failed)["exit_code"] == 5
    texts = [
        refused.content[0].text,
        broken.content[0].text,
        json.dumps(payload(shown)),
        errlog.read_text(),
        failed.content[0].text,
        errlog_500.read_text(),
        *[
            p.read_text(errors="replace")
            for p in (git_project / ".daglab").rglob("*")
            if p.is_file()
        ],
    ]
    basic = base64.b64encode(f"someone:{password}".encode()).decode()
    for secret in (password, TOKEN, basic):
        assert not [text for text in texts if secret in text], secret
