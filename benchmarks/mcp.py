"""`daglab mcp`: start-up, per-call overhead and wait lag, through the official SDK's client.

Serves a small generated project with a real `dagster dev`, then prints medians and ratios for:

- spawning `daglab mcp` over stdio and initializing a session (target <= 1.5 s);
- one `discover` tool call against the same GraphQL document sent directly with httpx
  (target <= 1.2x), and against `daglab discover --json` as a process (target well below 1x);
- `wait_for_run`'s lag: when the tool returned, minus the end time Dagster records
  (target <= 0.5 s).

    python benchmarks/mcp.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

# This file is named mcp.py: the SDK must come from site-packages, not from this folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from daglab._client._documents import OPERATIONS  # noqa: E402
from mcp import ClientSession  # noqa: E402

sys.path.insert(0, str(HERE))
from client import START, free_port, wait_ready  # noqa: E402

BIN = Path(sys.executable).parent
DEFINITIONS = """
import dagster as dg


@dg.asset(group_name="bench")
def numbers() -> list[int]:
    return list(range(10))


@dg.asset(group_name="bench")
def total(numbers: list[int]) -> int:
    return sum(numbers)


@dg.op
def tick() -> int:
    return 1


@dg.job
def bench_job() -> None:
    tick()


defs = dg.Definitions(assets=[numbers, total], jobs=[bench_job])
"""
PYPROJECT = """[project]
name = "mcpbench"
version = "0"
[tool.dagster]
module_name = "mcpbench.definitions"
code_location_name = "bench"
"""
END_TIME = "query($id: ID!) { runOrError(runId: $id) { ... on Run { endTime } } }"


def median(values: list[float]) -> float:
    return statistics.median(values)


async def measure(runs: int, project: Path, env: dict[str, str]) -> dict[str, Any]:
    params = StdioServerParameters(
        command=str(BIN / "daglab"),
        args=["mcp", "--project", str(project), "--allow", "launchRun"],
        env=env,
        cwd=project,
    )
    spawn: list[float] = []
    calls: list[float] = []
    lags: list[float] = []
    for index in range(runs):
        started = time.perf_counter()
        async with (
            stdio_client(params, errlog=Path(os.devnull).open("w")) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            spawn.append(time.perf_counter() - started)
            await session.call_tool("discover", {})  # warm: first use of the client
            for _ in range(5):
                started = time.perf_counter()
                result = await session.call_tool("discover", {})
                calls.append(time.perf_counter() - started)
                assert not result.is_error, result.content
            if index < 3:
                launched = await session.call_tool("launch_run", {"job": "bench_job"})
                run_id = launched.structured_content["run_id"]
                await session.call_tool("wait_for_run", {"run_id": run_id, "timeout": 300})
                returned = time.time()
                url = env["DAGLAB_DAGSTER__URL"]
                answer = httpx.post(
                    f"{url}/graphql", json={"query": END_TIME, "variables": {"id": run_id}}
                )
                lags.append(returned - answer.json()["data"]["runOrError"]["endTime"])
    return {"spawn": spawn, "calls": calls, "lags": lags}


def direct(url: str, runs: int) -> list[float]:
    query = OPERATIONS["discover"].text
    times = []
    with httpx.Client() as client:
        client.post(f"{url}/graphql", json={"query": query})
        for _ in range(runs * 5):
            started = time.perf_counter()
            client.post(f"{url}/graphql", json={"query": query}).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def cli(project: Path, env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "daglab"), "discover", "--json"],
            cwd=project,
            env=env,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="daglab-bench-mcp-"))
    project = work / "mcpbench"
    (project / "src" / "mcpbench").mkdir(parents=True)
    (project / "src" / "mcpbench" / "__init__.py").write_text("")
    (project / "src" / "mcpbench" / "definitions.py").write_text(DEFINITIONS)
    (project / "pyproject.toml").write_text(PYPROJECT)
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(project / "src"),
        "DAGLAB_DAGSTER__URL": url,
        "NO_COLOR": "1",
    }
    log = (work / "dagster.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", START, "-h", "127.0.0.1", "-p", str(port)],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_ready(url, server)
        found = anyio.run(measure, args.runs, project, env)
        raw = direct(url, args.runs)
        process = cli(project, env, args.runs)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    spawn, call, lag = median(found["spawn"]), median(found["calls"]), max(found["lags"])
    graphql, command = median(raw), median(process)
    print(json.dumps({k: [round(v, 4) for v in vs] for k, vs in found.items()}))
    print(f"spawn + initialize                     {spawn:6.3f} s  (target <= 1.5 s)")
    print(f"discover over MCP                      {call:6.3f} s")
    print(f"  the same GraphQL document, direct    {graphql:6.3f} s", end="")
    print(f"  MCP/direct = {call / graphql:.2f}  (target <= 1.2)")
    print(f"  daglab discover --json, a process    {command:6.3f} s", end="")
    print(f"  MCP/process = {call / command:.2f}  (target well below 1)")
    print(f"wait_for_run lag after Dagster's end    {lag:6.3f} s  (max; target <= 0.5 s)")


if __name__ == "__main__":
    main()
