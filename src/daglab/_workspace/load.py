"""``validate --load``: load each location in a process of its own, with its own interpreter.

Each location runs ``dagster definitions validate`` for just that location: under the entry's
``executable_path`` (or the project's ``.venv/bin/python``) when there is one, else under the
``dagster`` of this environment. One broken location cannot hide another.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from daglab._workspace.model import Location, Workspace
from daglab._workspace.projects import project_code
from daglab._workspace.validate import Problem

#: Seconds one location may take to load before it counts as failed.
LOAD_TIMEOUT = 300.0


def load_command(location: Location) -> list[str] | None:
    """The argv that loads ``location`` on its own, or None when no Dagster can run it."""
    from daglab._host import find_executable

    code = project_code(location.path) if location.path and location.path.is_dir() else None
    interpreter = location.executable or (code.venv_python if code else None)
    if interpreter is not None:
        argv = [str(interpreter), "-m", "dagster"]
    else:
        dagster = find_executable("dagster")
        if dagster is None:
            return None
        argv = [dagster]
    argv += ["definitions", "validate"]
    if location.kind == "grpc":
        host, port = location.grpc or ("localhost", 0)
        return [*argv, "--grpc-host", host, "--grpc-port", str(port)]
    if location.path is None:
        return None
    if location.kind == "file":
        return [*argv, "-f", str(location.path), "-d", str(location.path.parent)]
    module = location.module or (code.module if code else None)
    if module is None:
        return None
    base = code.working_directory if code else location.path
    return [*argv, "-m", module, "-d", str(base)]


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
#: Dagster's own deprecation chatter, which says nothing about the location.
_NOISE = ("SupersessionWarning", "return callback(", "warnings.warn(")


def _tail(text: str, lines: int = 10) -> str:
    kept = [
        line
        for line in _ANSI.sub("", text).strip().splitlines()
        if line.strip() and not any(noise in line for noise in _NOISE)
    ]
    return "\n".join(kept[-lines:])


def load_one(location: Location, cwd: Path) -> Problem | None:
    if location.grpc is not None:
        from daglab._host import port_open

        host, port = location.grpc
        if not port_open(host, port, 2.0):
            return Problem(
                "load-failed",
                f"{location.name}: nothing listens on {host}:{port}",
                "Start its code server (`dagster code-server start -p PORT ...`) or fix the port.",
                location.name,
            )
    argv = load_command(location)
    if argv is None:
        return Problem(
            "load-skipped",
            f"{location.name}: no Dagster to load it with",
            "Install dagster in this environment or give the project a .venv.",
            location.name,
            "warning",
        )
    try:
        done = subprocess.run(  # noqa: S603  argv built above from checked paths
            argv, cwd=cwd, capture_output=True, text=True, timeout=LOAD_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return Problem(
            "load-failed",
            f"{location.name}: did not load within {LOAD_TIMEOUT:.0f} s",
            "Look for slow imports or network calls at import time.",
            location.name,
        )
    except OSError as exc:
        return Problem(
            "load-failed",
            f"{location.name}: could not start {argv[0]}: {exc}",
            "Fix the location's interpreter (executable_path) or reinstall its environment.",
            location.name,
        )
    if done.returncode == 0:
        return None
    return Problem(
        "load-failed",
        f"{location.name}: failed to load:\n{_tail(done.stdout + done.stderr)}",
        f"Reproduce with: {' '.join(argv)}",
        location.name,
    )


def load_problems(ws: Workspace) -> list[Problem]:
    """Load every location whose target exists; two at a time (each is a Python process)."""
    loadable = [
        loc for loc in ws.locations if loc.kind == "grpc" or (loc.path and loc.path.exists())
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda loc: load_one(loc, ws.root), loadable))
    return [problem for problem in results if problem is not None]
