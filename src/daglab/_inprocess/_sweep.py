"""In-process sweeps: each config of a sweep runs in-process, in a subprocess of its own.

    daglab run --asset-selection shop/daily_sales --sweep days.py --in-process --parallel 2

Decisions, in one place:

- **A subprocess per config** (``python -m daglab._inprocess._sweep``, in a session of its own):
  the config's run cannot change daglab's process or another config's, and a crash (a segfault,
  ``os._exit``, the OOM killer) is that config's failure, with the tail of its output.
- **Checked before anything runs.** One subprocess first loads the project's ``Definitions``,
  resolves the target as :func:`~daglab._inprocess.run_inprocess` does and checks every
  config's partition (multi-dimensional as ``dim=key,dim=key``), reporting every bad one at once
  (exit 7, config index and key, did-you-mean). A partitioned target needs a partition for
  every config.
- **Bounded.** At most ``parallel`` children at a time, never more than the CPU count.
  With a ``timeout``, a config runs at most that many seconds; then its process group is
  stopped (without one it runs to its end: stopping work is never a default).
- **Stopping leaves nothing behind.** ``fail_fast`` starts no new config after one fails and
  stops the children in flight; Ctrl-C (or SIGTERM) does the same before re-raising. Every
  child's whole process group is stopped (SIGTERM, then SIGKILL after a grace period), and so
  is what a finished child left running.
- **No webserver.** Nothing here talks to Dagster's webserver; each run lives on an
  ephemeral instance, as :func:`run_inprocess` runs do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daglab import _errors
from daglab._errors import DaglabError, ValidationError
from daglab._sweeps import Sweep, SweepItem, SweepResult, SweepSkipped, run_sweep

__all__ = ["InProcessTarget", "check_sweep", "effective_parallel", "run_sweep_inprocess"]

#: Seconds a stopped child gets to end after SIGTERM before SIGKILL.
GRACE = 5.0
#: Characters of a crashed child's output kept in its error.
TAIL = 2000


@dataclass(frozen=True)
class InProcessTarget:
    """What each config runs: a job or an asset of the project's ``Definitions``."""

    target: str
    kind: str = "auto"
    location: str | None = None
    project: Path | None = None


def effective_parallel(requested: int) -> int:
    """``requested`` children at a time, bounded by the CPU count."""
    return max(1, min(requested, os.cpu_count() or 1))


def _remedy() -> str:
    return (
        "Nothing ran. Give each config its partition ({'partition': KEY, 'config': {...}}) or"
        " pass --partition KEY as the sweep's default; multi-dimensional keys as dim=key,dim=key."
    )


def check_sweep(
    where: InProcessTarget, sweep: Sweep, default_partition: str | None = None
) -> tuple[str, dict[int, str | None]]:
    """Resolve the target and every config's partition in one subprocess, before anything runs.

    Returns the target's name and ``{index: partition key as Dagster writes it}``. Every config
    with a missing or unknown partition is reported at once (exit 7).
    """
    partitions = {item.index: item.partition or default_partition for item in sweep.items}
    request = {
        "mode": "check",
        **_where(where),
        "partitions": {str(i): p for i, p in partitions.items()},
    }
    answer = _call(request, where)
    problems = answer.get("problems") or []
    if problems:
        labels = {item.index: item.label for item in sweep.items}
        lines = [
            f"  config #{p['index']} ({labels.get(int(p['index']), '?')}): {p['message']}"
            for p in problems
        ]
        raise ValidationError(
            f"{sweep.path}: {len(problems)} config(s) have no valid partition for"
            f" {answer.get('target', where.target)}:\n" + "\n".join(lines),
            remediation=_remedy(),
            problems=problems,
        )
    resolved = {int(i): k for i, k in (answer.get("partitions") or {}).items()}
    return str(answer.get("target") or where.target), resolved


def run_sweep_inprocess(
    where: InProcessTarget,
    sweep: Sweep,
    *,
    partitions: Mapping[int, str | None],
    parallel: int,
    fail_fast: bool,
    timeout: float | None = None,
    tags: Mapping[str, str] | None = None,
    target_label: str | None = None,
    on_start: Callable[[SweepItem], None] | None = None,
    on_result: Callable[[SweepResult], None] | None = None,
) -> list[SweepResult]:
    """Run every config in a subprocess of its own, at most ``parallel`` at a time.

    A result's ``status`` is ``SUCCESS``, ``FAILURE`` (the run failed), ``ERROR`` (Dagster
    refused to start it, or the subprocess crashed), ``CANCELED`` (stopped: ``fail_fast``,
    the timeout or an interrupt) or ``SKIPPED`` (never started).
    """
    running: dict[int, subprocess.Popen[bytes]] = {}
    stopped_by_us: dict[int, str] = {}
    registry = threading.Lock()
    stopping = threading.Event()
    run_ids: dict[int, str] = {}
    scratch = Path(tempfile.mkdtemp(prefix="daglab-sweep-"))

    def stop_all(reason: str) -> None:
        with registry:
            stopping.set()
            children = dict(running)
            for index in children:
                stopped_by_us.setdefault(index, reason)
        _stop_groups(list(children.values()))

    def launch_one(item: SweepItem, sweep_tags: dict[str, str]) -> tuple[str, str | None]:
        request = {
            "mode": "run",
            **_where(where),
            "run_config": item.config,
            "partition_key": partitions.get(item.index),
            "tags": {**(tags or {}), **sweep_tags},
        }
        with registry:
            if stopping.is_set():
                raise SweepSkipped
            running[item.index] = _spawn(request, scratch / str(item.index))
        if on_start is not None:
            on_start(item)
        return str(item.index), None

    def wait_one(handle: str) -> tuple[str, float | None, str | None]:
        index = int(handle)
        child = running[index]
        started = time.monotonic()
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with registry:
                stopped_by_us.setdefault(index, f"timed out after {timeout:g} s and stopped")
            _stop_groups([child])
        finally:
            with registry:
                running.pop(index, None)
        _stop_groups([child])  # what the config started and left running goes with it
        elapsed = time.monotonic() - started
        answer = _read_answer(scratch / str(index))
        log_path = scratch / str(index) / "output.log"
        result = answer.get("result") or {}
        if result.get("run_id"):
            run_ids[index] = str(result["run_id"])
        if index in stopped_by_us:  # whatever the run made of the signal, we stopped it
            return "CANCELED", elapsed, stopped_by_us[index]
        if result:
            status = "SUCCESS" if result.get("success") else "FAILURE"
            return status, float(result.get("duration_s") or elapsed), result.get("error")
        if "error" in answer:
            return "ERROR", elapsed, str(answer["error"].get("message"))
        code = child.returncode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        tail = _tail(log_path)
        return (
            "ERROR",
            elapsed,
            f"the subprocess ended ({how}) without a result"
            + (f"; its output ended with:\n{tail}" if tail else ""),
        )

    def on_stop() -> None:
        stop_all("stopped: the sweep stopped (--fail-fast or an interrupt)")

    try:
        with _sigterm_as_interrupt():
            results = run_sweep(
                sweep,
                launch_one,
                wait_one,
                parallel=effective_parallel(parallel),
                fail_fast=fail_fast,
                on_result=on_result,
                target=target_label or where.target,
                partitions=partitions,
                on_stop=on_stop,
                mode="inprocess",
            )
    finally:
        stop_all("stopped")  # nothing outlives the sweep, whatever ended it
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    for result in results:
        result.run_id = run_ids.get(result.item.index) or None
    return results


def _where(where: InProcessTarget) -> dict[str, Any]:
    return {
        "target": where.target,
        "kind": where.kind,
        "location": where.location,
        "project": str(where.project) if where.project is not None else None,
    }


def _spawn(request: Mapping[str, Any], folder: Path) -> subprocess.Popen[bytes]:
    """A child running ``request`` in ``folder``: its request, its output, then its answer."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
    with (folder / "output.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603  this interpreter and a fixed module, no shell
            [sys.executable, "-m", "daglab._inprocess._sweep", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own group: stopped as a whole, untouched by Ctrl-C
        )


def _read_answer(folder: Path) -> dict[str, Any]:
    """The child's answer, or ``{}`` when it ended without one."""
    try:
        answer = json.loads((folder / "answer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _call(request: Mapping[str, Any], where: InProcessTarget) -> dict[str, Any]:
    """Run a ``check`` request to its end; raise the daglab error it reports."""
    with tempfile.TemporaryDirectory(prefix="daglab-sweep-") as tmp:
        folder = Path(tmp)
        log_path = folder / "output.log"
        child = _spawn(request, folder)
        try:
            child.wait()
        except BaseException:
            _stop_groups([child])
            raise
        _stop_groups([child])
        answer = _read_answer(folder)
        if "error" in answer:
            raise _rebuild(answer["error"])
        if not answer:
            tail = _tail(log_path)
            raise ValidationError(
                f"loading the definitions for {where.target} ended (exit code"
                f" {child.returncode}) without an answer"
                + (f"; its output ended with:\n{tail}" if tail else ""),
                remediation="Check that the project's code imports (`daglab doctor`).",
            )
        return answer


def _rebuild(error: Mapping[str, Any]) -> DaglabError:
    kind = getattr(_errors, str(error.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, DaglabError)):
        kind = ValidationError
    return kind(str(error.get("message")), remediation=error.get("remediation"))


def _tail(path: Path) -> str:
    try:
        text = path.read_bytes()[-TAIL:].decode("utf-8", "replace")
    except OSError:
        return ""
    return text.strip()


def _stop_groups(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop each child's process group: SIGTERM, then SIGKILL what is left after ``GRACE``."""
    for child in children:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for child in children:
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
    for child in children:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the sweep as Ctrl-C does (children stopped), where a handler can be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# The child ----------------------------------------------------------------------------------


def _check(request: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve the target as ``run_inprocess`` does, and every config's partition."""
    from daglab._compat import require
    from daglab._inprocess import _RUN_LOCK, _find_target, _project_env
    from daglab._inprocess._target import selection_for
    from daglab._project import find_project

    require("dagster", needed_for="an in-process sweep")
    project = request.get("project")
    found = find_project(Path(project) if project else None)
    with _RUN_LOCK, _project_env(found.root):
        repository, kind, name, key, _source = _find_target(
            found,
            request["target"],
            request.get("kind") or "auto",
            None,
            request.get("location"),
            None,
        )
    chosen: set[Any] = set()
    if kind == "asset":  # the selection the run has: the asset with its upstream assets
        chosen, _checks = selection_for(repository, key, upstream=True)
    resolved: dict[str, str | None] = {}
    problems: list[dict[str, Any]] = []
    for index, given in (request.get("partitions") or {}).items():
        try:
            written = _checked_partition(repository, kind, name, key, chosen, given)
        except ValidationError as exc:
            problems.append({"index": int(index), "partition": given, "message": exc.message})
            continue
        resolved[index] = written
    return {"target": name, "kind": kind, "partitions": resolved, "problems": problems}


def _checked_partition(
    repository: Any, kind: str, name: str, key: Any, chosen: set[Any], given: str | None
) -> str | None:
    """``given`` (``dim=key,...`` or as Dagster writes it) checked as the run will check it."""
    from daglab._inprocess._target import check_child_partition, check_partition, run_partitions
    from daglab._partitions._backfill import multi_key

    if kind == "asset":
        definition, owners = run_partitions(repository, key, chosen, given)
    else:
        definition, owners = repository.get_job(name).partitions_def, [name]
    dimensions = [d.name for d in getattr(definition, "partitions_defs", None) or ()]
    written = multi_key(given, dimensions) if given is not None else None
    if kind == "asset" and repository.asset_graph.get(key).partitions_def is None and owners:
        check_child_partition(name, owners, definition, written)
    elif given is None and definition is not None:
        raise ValidationError(
            f"{kind} {name} is partitioned, and this config has no partition"
            f"{_partition_hint(definition)}"
        )
    else:
        check_partition(f"{kind} {name}", definition, written)
    return written


def _partition_hint(definition: Any) -> str:
    try:
        keys = definition.get_partition_keys()
    except Exception:  # dynamic partitions live in an instance
        return ""
    return f" ({len(keys):,} keys: {keys[0]} .. {keys[-1]})" if keys else " (none yet)"


def _run(request: Mapping[str, Any]) -> dict[str, Any]:
    from daglab._inprocess import run_inprocess

    project = request.get("project")
    result = run_inprocess(
        request["target"],
        kind=request.get("kind") or "auto",
        project=Path(project) if project else None,
        location=request.get("location"),
        run_config=request.get("run_config") or None,
        partition_key=request.get("partition_key"),
        tags=request.get("tags") or None,
        load_values=False,
    )
    return {"result": result.to_dict()}


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    try:
        answer = _check(request) if request.get("mode") == "check" else _run(request)
    except DaglabError as exc:
        answer = {
            "error": {
                "type": type(exc).__name__,
                "message": exc.message,
                "remediation": exc.remediation,
            }
        }
    partial = folder / "answer.json.part"
    partial.write_text(json.dumps(answer, default=str), encoding="utf-8")
    partial.replace(folder / "answer.json")  # all of it or nothing: a crash leaves no answer
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
