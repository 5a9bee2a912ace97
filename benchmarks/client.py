"""Talking to Dagster: discovery, wait lag and launch overhead, next to the peer tools.

Generates a dg project with N assets (default 2,000), serves it with a real `dagster dev`, and
prints medians and ratios for:

- discovery: `daglab discover --json` vs the same GraphQL document sent by curl vs
  `dg list defs --json` (which imports the code), plus discovery from an already running process
  (a notebook kernel or an agent) and the import floor of the CLI's libraries;
- wait lag: how long after the end time Dagster records a `daglab run --wait` process has exited,
  and when `DagsterClient.wait` in a running process (a notebook) returns;
- launch overhead: `daglab run --no-wait` vs `dagster job launch`.

    python benchmarks/client.py [--assets 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = """
import dagster as dg

N = {n}


def _make(index: int) -> dg.AssetsDefinition:
    group = f"group_{{index % 20:02d}}"

    @dg.asset(name=f"asset_{{index:05d}}", key_prefix=[group], group_name=group,
              kinds={{"python"}}, tags={{"bench": "yes"}}, owners=["team:bench"],
              description=f"generated asset {{index}}")
    def _asset() -> int:
        return index

    return _asset


@dg.op
def tick() -> int:
    return 1


@dg.job
def bench_job() -> None:
    tick()


defs = dg.Definitions(assets=[_make(i) for i in range(N)], jobs=[bench_job])
"""
PYPROJECT = """[project]
name = "benchproj"
version = "0"
[tool.dg]
directory_type = "project"
[tool.dg.project]
root_module = "benchproj"
code_location_name = "bench"
[tool.dagster]
module_name = "benchproj.definitions"
code_location_name = "bench"
"""
START = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'dagster', 'dev', *sys.argv[1:]])\n"
)


IMPORT_FLOOR = "import typer, pydantic_settings, httpx, stamina"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def timed(cmd: list[str], runs: int, **kwargs: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # A wheel install compiles daglab's bytecode; an editable one may not (PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(ROOT / "src" / "daglab", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="daglab-bench-"))
    project = work / "benchproj"
    (project / "src" / "benchproj").mkdir(parents=True)
    (project / "src" / "benchproj" / "__init__.py").write_text("")
    (project / "src" / "benchproj" / "definitions.py").write_text(DEFINITIONS.format(n=args.assets))
    (project / "pyproject.toml").write_text(PYPROJECT)
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(project / "src"),
        "DAGLAB_DAGSTER__HOST": "127.0.0.1",
        "DAGLAB_DAGSTER__PORT": str(port),
        "DAGLAB_PERFORMANCE__MAX_CONCURRENT_RUNS": "1000",
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
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        report(args, project, env, url)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
        # A code server's gRPC child can outlive dagster dev; nothing of the group may stay.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("dagster dev exited")
        try:
            data = httpx.post(f"{url}/graphql", json={"query": query}, timeout=10).json()
            entries = data["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit("dagster dev did not load the project in time")


def warm_discovery(url: str, runs: int) -> float:
    """Discovery from a process that is already running, as in a notebook or an agent."""
    from daglab import DagsterClient
    from daglab._config_models import DagsterSettings

    client = DagsterClient.shared(DagsterSettings(url=url))
    client.discover()  # connect and import once, as a kernel would have
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.discover()
        times.append(time.perf_counter() - started)
    client.close()
    return statistics.median(times)


def wait_notice_lags(url: str, runs: int) -> list[float]:
    """How long after Dagster's end time a running process (a notebook) sees a run end."""
    from daglab import DagsterClient
    from daglab._config_models import DagsterSettings

    client = DagsterClient.shared(DagsterSettings(url=url))
    job = client.resolve_job("bench_job")
    lags = []
    for _ in range(runs):
        run = client.launch(job, {})
        finished = client.wait(run.run_id, timeout=120)
        noticed = time.time()
        lags.append(noticed - (finished.ended or noticed))
    client.close()
    return lags


def report(args: argparse.Namespace, project: Path, env: dict[str, str], url: str) -> None:
    from daglab._client._documents import OPERATIONS

    daglab = str(BIN / "daglab")
    runs = args.runs
    payload = project.parent / "query.json"
    payload.write_text(json.dumps({"query": OPERATIONS["discover"].text, "variables": {}}))
    found = json.loads(
        subprocess.run(
            [daglab, "discover", "--json", "--filter", "assets"],
            env=env,
            capture_output=True,
            check=True,
        ).stdout
    )
    print(f"project: {len(found['assets'])} assets served by dagster dev at {url}")

    ours = timed([daglab, "discover", "--json"], runs, env=env)
    curl = timed(
        [
            "curl",
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            f"@{payload}",
            f"{url}/graphql",
            "-o",
            os.devnull,
        ],
        runs,
        env=env,
    )
    dg = timed([str(BIN / "dg"), "list", "defs", "--json"], max(1, runs // 2), env=env, cwd=project)
    floor = timed([sys.executable, "-c", IMPORT_FLOOR], runs, env=env)
    warm = warm_discovery(url, runs)
    print("\ndiscovery (median wall time)")
    print(f"  daglab discover --json      {ours * 1000:8.0f} ms")
    print(f"  curl, same GraphQL document {curl * 1000:8.0f} ms   daglab/curl = {ours / curl:.2f}")
    print(f"  dg list defs --json         {dg * 1000:8.0f} ms   daglab/dg   = {ours / dg:.2f}")
    print(
        f"  DagsterClient.discover()    {warm * 1000:8.0f} ms   warm process (notebook, agent):"
        f" {warm / curl:.2f} of curl"
    )
    print(
        f"  importing Typer, pydantic-settings, httpx, stamina alone: {floor * 1000:.0f} ms"
        " (start-up floor of any CLI built on them)"
    )

    lags = []
    for _ in range(runs):
        done = subprocess.run(
            [daglab, "run", "--job", "bench_job", "--json"],
            env=env,
            capture_output=True,
            check=True,
        )
        exited = time.time()
        run_id = json.loads(done.stdout)["run_id"]
        query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { endTime } } }"
        answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": {"id": run_id}})
        lags.append(exited - answer.json()["data"]["runOrError"]["endTime"])
    noticed = wait_notice_lags(url, runs)
    print("\nwait: after the end time Dagster records (target <= 0.5 s)")
    print(
        f"  daglab run --wait exits       median {statistics.median(lags):.3f} s,"
        f" max {max(lags):.3f} s"
    )
    print(
        f"  DagsterClient.wait() returns  median {statistics.median(noticed):.3f} s,"
        f" max {max(noticed):.3f} s"
    )

    launch = timed([daglab, "run", "--job", "bench_job", "--no-wait", "--json"], runs, env=env)
    peer = timed(
        [str(BIN / "dagster"), "job", "launch", "-j", "bench_job"],
        max(1, runs // 2),
        env=env,
        cwd=project,
    )
    print("\nlaunch overhead per run (median wall time)")
    print(f"  daglab run --no-wait        {launch * 1000:8.0f} ms")
    print(
        f"  dagster job launch          {peer * 1000:8.0f} ms   daglab/dagster = "
        f"{launch / peer:.2f}"
    )


if __name__ == "__main__":
    main()
