"""`daglab module new` against `create-dagster project` plus `dg scaffold` of the same parts.

In a fresh `create-dagster workspace`, times (median wall, in ms):

- `daglab module new` with the postgres and schedule addons (files, addons, registration,
  manifest and the stored base, in one command);
- `create-dagster project` then `dg scaffold defs` of a resources file, an asset and a schedule:
  the nearest dg gets to the same parts (and its files are stubs: an empty resources dict, a
  schedule that skips).

    python benchmarks/module_new.py [--runs 3]

For `benchmarks/workspace.py`: `module_new_ratio()` returns (daglab seconds, dg seconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_COLOR": "1", "DAGSTER_DISABLE_TELEMETRY": "1"}


def _timed(cmds: list[list[str]], cwd: Path) -> float:
    started = time.perf_counter()
    for cmd in cmds:
        done = subprocess.run(
            cmd, cwd=cwd, env=ENV, input="n\n", capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )
    return time.perf_counter() - started


def module_new_ratio(runs: int = 3) -> tuple[float, float]:
    """Median seconds of `daglab module new` and of create-dagster + dg scaffold."""
    work = Path(tempfile.mkdtemp(prefix="daglab-bench-module-"))
    _timed([[str(BIN / "create-dagster"), "workspace", "ws", "--no-uv-sync"]], work)
    root = work / "ws"
    ours, theirs = [], []
    addons = ["--addon", "postgres", "--addon", "schedule", "--cron", "0 6 * * *"]
    answers = ["--template", "minimal", *addons, "--timezone", "UTC", "--port", "auto"]
    dg = str(BIN / "dg")
    parts = [("dagster.resources", "resources.py"), ("dagster.asset", "postgres_events.py")]
    parts.append(("dagster.schedule", "schedules.py"))
    for run in range(runs):
        ours.append(_timed([[str(BIN / "daglab"), "module", "new", f"ours{run}", *answers]], root))
        project = root / "projects" / f"theirs{run}"
        create = [str(BIN / "create-dagster"), "project", str(project), "--no-uv-sync"]
        scaffold = [[dg, "scaffold", "defs", kind, name] for kind, name in parts]
        theirs.append(_timed([create], root) + _timed(scaffold, project))
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ours, theirs = module_new_ratio(args.runs)
    print(f"median wall time over {args.runs} runs")
    print(f"  {'daglab module new':<44} {ours * 1000:8.1f} ms")
    print(f"  {'create-dagster project + 3 dg scaffold defs':<44} {theirs * 1000:8.1f} ms")
    print(f"  ratio: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
