"""One ``daglab dev`` session: start the plan, report readiness, open browsers, record the ports."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from daglab._errors import EnvironmentMissingError
from daglab._sidecar.plan import DevOptions, DevPlan
from daglab._sidecar.supervisor import RESTART, ChildExit, Sink, Supervisor, indent_lines
from daglab._sidecar.watch import FileWatch


def write_last_ports(plan: DevPlan, supervisor: Supervisor) -> Path:
    """``.daglab/last_ports.json``: ports, URLs (no token) and pids, written atomically."""
    from daglab._fs import atomic_write

    pids = {child.spec.name: child.popen.pid for child in supervisor.children}
    data: dict[str, Any] = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "supervisor_pid": os.getpid(),
        "notebook": _relative(plan.notebook, plan.root),
    }
    for spec in (plan.dagster, plan.marimo):
        data[spec.name] = {
            "host": spec.host,
            "port": spec.port,
            "url": spec.url,
            "pid": pids.get(spec.name),
            "command": spec.label,
        }
    path = plan.last_ports_path
    atomic_write(path, json.dumps(data, indent=2) + "\n")
    return path


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def run_dev(plan: DevPlan, sink: Sink, *, opener: Callable[[str], object] | None = None) -> None:
    """Run the session until Ctrl-C/SIGTERM (returns) or a child ends.

    A child that ends is an error (exit 3, with its last lines) under ``--ci``, or when it
    failed; a child that exits 0 on its own (marimo's shutdown button) ends the session
    normally. Either way the other child is stopped and nothing is left running.
    """
    options = plan.options
    plan.last_ports_path.parent.mkdir(parents=True, exist_ok=True)  # the log file lives there
    supervisor = Supervisor(
        [plan.dagster, plan.marimo],
        sink,
        grace=options.grace,
        sample_interval=options.sample_interval,
        show_interval=options.show_interval,
        verbose=options.log_level == "DEBUG",
        log_hint=_relative(plan.log_file, plan.root) if plan.log_file else "the log file",
    )
    for level, note in plan.notes:
        supervisor.event(note, level)
    with supervisor.signals():
        try:
            supervisor.start()
            if supervisor.children:
                write_last_ports(plan, supervisor)
            outcome: ChildExit | bool | None = supervisor.wait_ready(
                {"dagster": options.dagster_timeout, "marimo": options.marimo_timeout}
            )
            if outcome is True:
                elapsed = time.monotonic() - supervisor.started_at
                urls = [("Dagster UI", plan.dagster.url), ("marimo", plan.marimo_url)]
                supervisor.show(sink.ready, urls, elapsed)
                supervisor._log.info(
                    "ready after %.1f s: %s and %s", elapsed, plan.dagster.url, plan.marimo.url
                )
                if plan.open_browser:
                    _open(opener, [plan.dagster.url, plan.marimo_url])
                outcome = _watch(plan, supervisor)
            if isinstance(outcome, ChildExit):
                _child_ended(outcome, options, supervisor.log_hint)
                supervisor.event(f"{outcome.describe()}; stopping the other")
        finally:
            supervisor.stop()


def _watch(plan: DevPlan, supervisor: Supervisor) -> ChildExit | bool | None:
    """Watch the children until the session ends; the Dagster child restarts each time the
    workspace file it serves changes (a running ``dagster dev`` would not see the change)."""
    changed = FileWatch(plan.watch).changed if plan.watch else None
    while True:
        outcome = supervisor.watch(changed)
        if outcome != RESTART:
            return outcome if isinstance(outcome, ChildExit) else None
        names = ", ".join(_relative(path, plan.root) for path in plan.watch)
        supervisor.event(f"{names} changed: restarting {plan.dagster.label}")
        supervisor.restart(plan.dagster.name)
        write_last_ports(plan, supervisor)
        ready = supervisor.wait_ready({plan.dagster.name: plan.options.dagster_timeout})
        if ready is not True:
            return ready
        supervisor.event(f"{plan.dagster.label} is back at {plan.dagster.url}")


def _open(opener: Callable[[str], object] | None, urls: Sequence[str]) -> None:
    if opener is None:
        import webbrowser

        opener = webbrowser.open
    for url in urls:
        with contextlib.suppress(Exception):
            opener(url)


def _child_ended(ended: ChildExit, options: DevOptions, log_hint: str) -> None:
    if ended.returncode == 0 and not options.ci:
        return
    raise EnvironmentMissingError(
        f"{ended.describe()} unexpectedly; its last lines:\n" + indent_lines(ended.tail[-12:]),
        remediation=f"Fix what its output reports (all of it is in {log_hint}), then run"
        " `daglab dev` again.",
        service=ended.name,
        returncode=ended.returncode,
    )
