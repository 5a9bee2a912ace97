"""Partitions: 30 daily partitions and the overhead of a run, next to Dagster's own CLI.

Generates a project with two daily-partitioned assets — one with a single-run backfill policy
(so Dagster's CLI can materialize a range too), one without (one run per partition) — serves it
with a real `dagster dev`, and prints medians and ratios for:

- 30 daily partitions of the single-run asset, launched and followed to their end:
  `daglab run --partition-range` (one run through the webserver, no daemon tick) against
  `dagster asset materialize --partition-range` (which imports the code and runs in-process);
- 30 daily partitions of the per-partition asset: `daglab run --partition-range` is a Dagster
  backfill (the daemon launches a run per partition); Dagster's CLI cannot do that range at all
  (it requires a single-run policy), so it is set against the same single-run baseline;
- the overhead of `daglab run --wait` beyond the run time Dagster records (launch to exit, minus
  Dagster's end time minus its creation time).

    python benchmarks/partitions.py [--runs 3]
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client import START, free_port, wait_ready

BIN = Path(sys.executable).parent
DEFINITIONS = """
import dagster as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")


@dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
def daily_numbers(context: dg.AssetExecutionContext) -> None:
    # no output to store: the filesystem IO manager cannot store a range in one run
    context.log.info(f"{len(context.partition_keys)} partitions")


@dg.asset(partitions_def=daily)
def daily_each(context: dg.AssetExecutionContext) -> None:
    context.log.info(context.partition_key)


@dg.op
def tick() -> int:
    return 1


@dg.job
def bench_job() -> None:
    tick()


defs = dg.Definitions(assets=[daily_numbers, daily_each], jobs=[bench_job])
"""
PYPROJECT = """[project]
name = "partproj"
version = "0"
[tool.dagster]
module_name = "partproj.definitions"
code_location_name = "bench"
"""
RANGE = "2024-01-01...2024-01-30"
RUN_TIMES = "query($id: ID!) { runOrError(runId: $id) { ... on Run { creationTime endTime } } }"


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--skip-backfill",
        action="store_true",
        help="Time only the single-run range (the per-partition backfill waits for the daemon).",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="daglab-bench-partitions-"))
    project = work / "partproj"
    (project / "src" / "partproj").mkdir(parents=True)
    (project / "src" / "partproj" / "__init__.py").write_text("")
    (project / "src" / "partproj" / "definitions.py").write_text(DEFINITIONS)
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
        report(args.runs, project, env, url, backfill=not args.skip_backfill)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def daglab_range(asset: str, env: dict[str, str], cwd: Path) -> tuple[float, dict[str, object]]:
    cmd = [str(BIN / "daglab"), "run", "--asset-selection", asset, "--partition-range", RANGE]
    seconds, out = timed([*cmd, "--json", "--timeout", "1800"], env, cwd)
    return seconds, json.loads(out)


def report(runs: int, project: Path, env: dict[str, str], url: str, *, backfill: bool) -> None:
    daglab = str(BIN / "daglab")
    single, each, theirs = [], [], []
    for _ in range(runs):
        seconds, answer = daglab_range("daily_numbers", env, project)
        assert answer["launch"] == "single-run" and answer["status"] == "SUCCESS", answer
        assert len(answer["partitions"]) == 30, answer  # type: ignore[arg-type]
        single.append(seconds)
        print(f"  single-run range {seconds:.2f} s", flush=True)
        if backfill:
            seconds, answer = daglab_range("daily_each", env, project)
            assert answer["launch"] == "backfill" and answer["succeeded"] == 30, answer
            each.append(seconds)
            print(f"  per-partition backfill {seconds:.2f} s", flush=True)
        seconds, _ = timed(
            [
                str(BIN / "dagster"),
                "asset",
                "materialize",
                "--select",
                "daily_numbers",
                "--partition-range",
                RANGE,
                "-m",
                "partproj.definitions",
            ],
            env,
            project,
        )
        theirs.append(seconds)
        print(f"  dagster asset materialize {seconds:.2f} s", flush=True)
    a, b = statistics.median(single), statistics.median(theirs)
    print("30 daily partitions, launched and followed to their end (median wall time)")
    print(f"  dagster asset materialize --partition-range   {b:6.2f} s   (single-run asset)")
    print(
        f"  daglab run --partition-range, single-run asset {a:6.2f} s   one run;"
        f" daglab/dagster = {a / b:.2f}  (target <= 0.5)"
    )
    if each:
        e = statistics.median(each)
        print(
            f"  daglab run --partition-range, per-partition    {e:6.2f} s   a backfill of 30 runs;"
            f" daglab/dagster = {e / b:.2f}"
        )

    overheads = []
    for _ in range(runs):
        seconds, out = timed([daglab, "run", "--job", "bench_job", "--json"], env, project)
        run_id = json.loads(out)["run_id"]
        times = httpx.post(
            f"{url}/graphql", json={"query": RUN_TIMES, "variables": {"id": run_id}}
        ).json()["data"]["runOrError"]
        overheads.append(seconds - (times["endTime"] - times["creationTime"]))
    print("\nrun --wait overhead beyond the run time Dagster records (target <= 1 s, idle machine)")
    print(f"  median {statistics.median(overheads):.2f} s, max {max(overheads):.2f} s")


if __name__ == "__main__":
    main()
