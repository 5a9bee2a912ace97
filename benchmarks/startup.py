"""Cold start of `daglab --help` next to `dg --help` and `dagster --help`.

Each command runs as a fresh process N times (after one warm-up that also fills daglab's help
cache); the script prints the medians and daglab's ratio to each peer. It also times daglab with
the help cache disabled, which is what a first call (or a changed terminal) costs.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def exe(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def median_seconds(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm-up (and cache fill)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache, "COLUMNS": "100"}
        rows = {
            "daglab --help": median_seconds([exe("daglab"), "--help"], args.runs, env),
            "daglab --help (no help cache)": median_seconds(
                [exe("daglab"), "--help"], args.runs, {**env, "DAGLAB_NO_HELP_CACHE": "1"}
            ),
            "dg --help": median_seconds([exe("dg"), "--help"], args.runs, env),
            "dagster --help": median_seconds([exe("dagster"), "--help"], args.runs, env),
            "python -c pass": median_seconds([sys.executable, "-c", "pass"], args.runs, env),
        }
    print(f"median wall time over {args.runs} runs")
    for name, seconds in rows.items():
        print(f"  {name:<32} {seconds * 1000:8.1f} ms")
    for ours in ("daglab --help", "daglab --help (no help cache)"):
        for peer in ("dg --help", "dagster --help"):
            print(f"  {ours} / {peer}: {rows[ours] / rows[peer]:.2f}")
    target = rows["daglab --help"] / rows["dg --help"]
    print(f"target <= 0.25 of dg --help: {'met' if target <= 0.25 else 'NOT met'} ({target:.2f})")


if __name__ == "__main__":
    main()
