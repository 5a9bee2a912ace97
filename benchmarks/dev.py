"""`daglab dev` next to starting `dagster dev` and `marimo edit` by hand, in parallel.

On a copy of the tests' sample project, each round starts (in alternating order):

- `daglab dev --no-open --ci --notebook nb.py`, and
- `dagster dev` plus `marimo edit nb.py --watch --headless` (token on stdin) as two processes,

and times both from launch until Dagster's `/server_info` answers and marimo's port accepts
connections (polled from outside every 0.1 s; for daglab also until it prints that both UIs are
up). While daglab's children run it samples the supervisor's own RSS (DESIGN.md: under 80 MB)
and the children's process trees; then it stops each side and times that too.

    python benchmarks/dev.py [--runs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
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

import psutil

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "fixtures" / "sample_dagster_project"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
TIMEOUT = 240.0
TARGET_MB = 80.0

NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    return (mo,)


if __name__ == "__main__":
    app.run()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def make_project(folder: Path) -> Path:
    root = folder / "proj"
    shutil.copytree(SAMPLE, root)
    (root / ".git").mkdir()
    (root / ".daglab").mkdir()
    (root / ".dagster_home").mkdir()
    (root / ".dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (root / "nb.py").write_text(NOTEBOOK)
    return root


def dagster_up(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        conn.request("GET", "/server_info")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def marimo_up(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_both(dagster_port: int, marimo_port: int, procs: list[subprocess.Popen[bytes]]) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < TIMEOUT:
        if dagster_up(dagster_port) and marimo_up(marimo_port):
            return time.perf_counter()
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError(f"a process exited early: {[p.args for p in procs]}")
        time.sleep(0.1)
    raise TimeoutError("the UIs did not come up")


def tree_rss(pid: int) -> int:
    try:
        leader = psutil.Process(pid)
        procs = [leader, *leader.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def stop_group(proc: subprocess.Popen[bytes], sig: int) -> float:
    """Signal ``proc``'s group, wait for the whole tree; SIGKILL what is left after 30 s."""
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    started = time.perf_counter()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    _, alive = psutil.wait_procs(tree, timeout=max(0.1, 30 - (time.perf_counter() - started)))
    elapsed = time.perf_counter() - started
    for leftover in alive:
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    return elapsed


def run_daglab(root: Path) -> dict[str, float]:
    dagster_port, marimo_port = free_port(), free_port()
    (root / "daglab.yaml").write_text(
        f"dagster:\n  port: {dagster_port}\nmarimo:\n  port: {marimo_port}\n"
    )
    out_path = root / "dev.out"
    with out_path.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(BIN / "daglab"), "dev", "--no-open", "--ci", "--notebook", "nb.py"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = wait_both(dagster_port, marimo_port, [proc])
        while "both UIs are up" not in out_path.read_text(errors="replace"):
            if time.perf_counter() - started > TIMEOUT or proc.poll() is not None:
                raise RuntimeError(out_path.read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        reported = time.perf_counter()
        supervisor = psutil.Process(proc.pid)
        rss = []
        children = []
        for _ in range(10):
            rss.append(supervisor.memory_info().rss)
            children.append(sum(tree_rss(c.pid) for c in supervisor.children()))
            time.sleep(0.5)
        stop = stop_group(proc, signal.SIGINT)
    finally:
        if proc.poll() is None:
            stop_group(proc, signal.SIGKILL)
    return {
        "ready": ready - started,
        "reported": reported - started,
        "supervisor_mb": max(rss) / 2**20,
        "children_mb": max(children) / 2**20,
        "stop": stop,
        "exit": float(proc.returncode),
    }


def run_by_hand(root: Path) -> dict[str, float]:
    dagster_port, marimo_port = free_port(), free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / ".dagster_home"),
        "PYTHONUNBUFFERED": "1",
    }
    common = {
        "cwd": root,
        "env": env,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "start_new_session": True,
    }
    started = time.perf_counter()
    dagster = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "--host",
            HOST,
            "--port",
            str(dagster_port),
        ],
        stdin=subprocess.DEVNULL,
        **common,  # type: ignore[call-overload]
    )
    marimo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marimo",
            "edit",
            "nb.py",
            "--watch",
            "--headless",
            "--host",
            HOST,
            "--port",
            str(marimo_port),
            "--token-password-file",
            "-",
            "--skip-update-check",
        ],
        stdin=subprocess.PIPE,
        **common,  # type: ignore[call-overload]
    )
    assert marimo.stdin is not None
    marimo.stdin.write(b"benchmark-token\n")
    marimo.stdin.close()
    try:
        ready = wait_both(dagster_port, marimo_port, [dagster, marimo])
        children = tree_rss(dagster.pid) + tree_rss(marimo.pid)
    finally:
        stop_started = time.perf_counter()
        stop_group(marimo, signal.SIGTERM)
        stop_group(dagster, signal.SIGINT)
        stop = time.perf_counter() - stop_started
    return {"ready": ready - started, "children_mb": children / 2**20, "stop": stop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="daglab-dev-bench-") as tmp:
        root = make_project(Path(tmp))
        run_by_hand(root)  # warm-up: bytecode caches, the OS page cache
        for index in range(args.runs):
            if index % 2 == 0:
                ours.append(run_daglab(root))
                theirs.append(run_by_hand(root))
            else:
                theirs.append(run_by_hand(root))
                ours.append(run_daglab(root))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"medians over {args.runs} run(s) of each (a full Dagster start each)")
    print(f"  daglab dev: both UIs answer after      {med(ours, 'ready'):7.2f} s")
    print(f"  daglab dev: reports both UIs up after  {med(ours, 'reported'):7.2f} s")
    print(f"  by hand (dagster dev + marimo edit)    {med(theirs, 'ready'):7.2f} s")
    print(
        f"  start-up ratio daglab / by hand:       {med(ours, 'ready') / med(theirs, 'ready'):7.2f}"
    )
    print(
        "  reported ratio daglab / by hand:       "
        f"{med(ours, 'reported') / med(theirs, 'ready'):7.2f}"
    )
    print(f"  stop: daglab dev {med(ours, 'stop'):.2f} s, by hand {med(theirs, 'stop'):.2f} s")
    print(f"  exit codes after SIGINT: {sorted({int(r['exit']) for r in ours})}")
    supervisor = max(row["supervisor_mb"] for row in ours)
    print(
        f"  children RSS: daglab's {med(ours, 'children_mb'):.0f} MB,"
        f" by hand {med(theirs, 'children_mb'):.0f} MB"
    )
    print(f"  supervisor RSS (max): {supervisor:.1f} MB")
    print(f"  supervisor / {TARGET_MB:.0f} MB target: {supervisor / TARGET_MB:.2f}")
    print(
        f"  supervisor / children RSS: {supervisor / med(ours, 'children_mb'):.3f}"
        f"  -> target under {TARGET_MB:.0f} MB: {'met' if supervisor < TARGET_MB else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
