"""What a notebook's import cell costs: `daglab.helpers` next to marimo, Dagster and dagstermill.

A paired notebook imports the helper facade in its second cell; that must stay cheap, and must
not import Dagster (only an in-process run does). Each statement runs in a fresh interpreter N
times; the script prints medians and ratios, and checks that Dagster stayed out.

    python benchmarks/helpers_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_IMPORT = (
    "from daglab.helpers import attach_metadata, connect, discover, manage_state,"
    " run_inprocess, run_job, track_performance, validate_config, views"
)
STATEMENTS = {
    "python -c pass": "pass",
    "import daglab.helpers": "import daglab.helpers",
    "the notebook's helper import": NOTEBOOK_IMPORT,
    "import marimo": "import marimo",
    "import dagster": "import dagster",
    "import dagstermill": "import dagstermill",
}


def median_seconds(statement: str, runs: int) -> float | None:
    command = [sys.executable, "-c", statement]
    if subprocess.run(command, capture_output=True).returncode != 0:
        return None  # not installed
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # A wheel install compiles daglab's bytecode; an editable one may not (PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(ROOT / "src" / "daglab", quiet=1)
    probe = f"{NOTEBOOK_IMPORT}\nimport json, sys\nprint(json.dumps('dagster' in sys.modules))"
    leaked = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    results = {name: median_seconds(code, args.runs) for name, code in STATEMENTS.items()}
    ours = results["the notebook's helper import"]
    assert ours is not None
    print(f"median of {args.runs} fresh interpreters")
    for name, seconds in results.items():
        if seconds is None:
            print(f"  {name:32s}      (not installed)")
            continue
        peer = name.startswith("import ") and "daglab" not in name
        ratio = f"   notebook import / this = {ours / seconds:.2f}" if peer else ""
        print(f"  {name:32s} {seconds * 1000:8.1f} ms{ratio}")
    print(f"\nDagster imported by the helper import: {'YES' if leaked else 'no'}")


if __name__ == "__main__":
    main()
