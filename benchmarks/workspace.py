"""Many code locations: listing, auditing and making modules, next to the peer tools.

Builds a workspace with `create-dagster workspace` and three projects (two from `daglab module
new`, one from `create-dagster project`), then prints medians and ratios for:

- listing: `daglab workspace list --json` vs `dg list projects` (target <= 0.3x);
- auditing: static `daglab audit --json` on the three-project workspace (target <= 0.5 s wall);
- making a module: `daglab module new` (standard template, schedule addon) vs
  `create-dagster project` + `dg scaffold defs` of the same parts (an asset, a resource, a
  schedule), each into a fresh folder.

A daglab without one of the commands is reported by name and the benchmark exits 1 after
measuring what it can.

    python benchmarks/workspace.py [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
DAGLAB = str(BIN / "daglab")
DG = str(BIN / "dg")
CREATE = str(BIN / "create-dagster")
#: What each daglab command of this benchmark needs, as `daglab … --help` proves it exists.
COMMANDS = {
    "workspace list": ["workspace", "list", "--help"],
    "audit": ["audit", "--help"],
    "module new": ["module", "new", "--help"],
}
#: `daglab module new`'s answers, all as flags (no terminal here).
MODULE_FLAGS = ["--template", "standard", "--addon", "schedule", "--cron", "0 6 * * *",
                "--timezone", "Europe/Berlin", "--port", "auto"]  # fmt: skip


def run(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, input="n\n")
    if proc.returncode not in ok:
        raise SystemExit(
            f"{' '.join(cmd)} exited {proc.returncode} in {cwd}:\n{proc.stdout}{proc.stderr}"
        )


def timed(
    cmd: list[str], runs: int, cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(cmd, cwd, env, ok)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed_fresh(make: Callable[[int], None], runs: int) -> float:
    """Median of ``make(i)``, each into a new folder."""
    times = []
    for index in range(runs):
        started = time.perf_counter()
        make(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def missing_commands(env: dict[str, str]) -> list[str]:
    missing = []
    for label, args in COMMANDS.items():
        proc = subprocess.run([DAGLAB, *args], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            missing.append(label)
    return missing


def build_workspace(work: Path, env: dict[str, str], with_modules: bool) -> Path:
    run([CREATE, "workspace", "ws"], work, env)
    ws = work / "ws"
    if with_modules:
        for name in ("alpha", "beta"):
            run([DAGLAB, "module", "new", name, *MODULE_FLAGS], ws, env)
    else:  # without `module new`, the same count of projects, so listing and audit still run
        for name in ("alpha", "beta"):
            run([CREATE, "project", f"projects/{name}", "--no-uv-sync"], ws, env)
    run([CREATE, "project", "projects/gamma", "--no-uv-sync"], ws, env)
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # A wheel install compiles daglab's bytecode; an editable one may not (PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(ROOT / "src" / "daglab", quiet=1)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    missing = missing_commands(env)
    for label in missing:
        print(f"MISSING: this daglab has no `daglab {label}`; its measurement is skipped")
    work = Path(tempfile.mkdtemp(prefix="daglab-bench-ws-"))
    try:
        ws = build_workspace(work, env, with_modules="module new" not in missing)
        print(f"workspace: {ws} (three projects)")
        print(f"\nlisting (median wall time of {args.runs})")
        dg = timed([DG, "list", "projects"], args.runs, ws, env)
        print(f"  dg list projects               {dg * 1000:8.0f} ms")
        if "workspace list" not in missing:
            ours = timed([DAGLAB, "workspace", "list", "--json"], args.runs, ws, env)
            print(
                f"  daglab workspace list --json   {ours * 1000:8.0f} ms"
                f"   daglab/dg = {ours / dg:.2f}  (target <= 0.3)"
            )
        if "audit" not in missing:
            audit = timed([DAGLAB, "audit", "--json"], args.runs, ws, env, ok=(0, 7))
            print(f"\nstatic audit, three projects    {audit * 1000:8.0f} ms  (target <= 500 ms)")
        print("\nmaking a module with an asset, a resource and a schedule (median)")
        peers = work / "peers"
        peers.mkdir()

        def peer(index: int) -> None:
            name = f"peer{index}"
            run([CREATE, "project", name, "--no-uv-sync"], peers, env)
            project = peers / name
            run([DG, "scaffold", "defs", "dagster.asset", "assets.py"], project, env)
            run([DG, "scaffold", "defs", "dagster.resources", "resources.py"], project, env)
            run([DG, "scaffold", "defs", "dagster.schedule", "schedules.py"], project, env)

        theirs = timed_fresh(peer, args.runs)
        print(f"  create-dagster project + dg scaffold x3  {theirs * 1000:8.0f} ms")
        if "module new" not in missing:
            mods = work / "mods"
            run([CREATE, "workspace", "mods"], work, env)

            def module(index: int) -> None:
                run([DAGLAB, "module", "new", f"mod{index}", *MODULE_FLAGS], mods, env)

            ours = timed_fresh(module, args.runs)
            print(
                f"  daglab module new                        {ours * 1000:8.0f} ms"
                f"   daglab/peers = {ours / theirs:.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if missing:
        raise SystemExit(f"incomplete: missing {', '.join(f'daglab {m}' for m in missing)}")


if __name__ == "__main__":
    main()
