"""Python-first sweeps: a file that defines ``CONFIG`` or ``config_gen()`` yields run configs.

    CONFIG = {"ops": {...}}                 # one run config
    CONFIG = [{...}, {...}]                 # several
    def config_gen():                       # or a generator, of configs or (label, config)
        for lr in (0.01, 0.1):
            yield f"lr={lr}", {"ops": {"train": {"config": {"lr": lr}}}}
    def config_gen():                       # a partition per config
        for day in ("2024-01-01", "2024-01-02"):
            yield {"partition": day, "config": {...}}   # multi: "date=2024-01-01,region=eu"

Each config becomes one Dagster run tagged with the sweep's id and the config's index, or, in
process, one run in a subprocess of its own (``daglab._inprocess._sweep``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._client._models import SWEEP_TAG
from daglab._errors import AuthenticationError, ConnectivityError, DaglabError, ValidationError
from daglab._logging import get_logger

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._runs import PartitionPlan, Target

log = get_logger("sweeps")


class SweepSkipped(Exception):
    """Raised by a ``launch_one`` that refuses to start a config because the sweep stops."""


@dataclass(frozen=True)
class SweepItem:
    index: int
    label: str
    config: dict[str, Any]
    #: The partition the file gave this config (``None``: the sweep's default, if any).
    partition: str | None = None


@dataclass(frozen=True)
class Sweep:
    path: Path
    items: list[SweepItem]
    sweep_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


#: Defaults of ``performance.sweep_max_configs`` and ``performance.sweep_time_limit``.
MAX_CONFIGS = 1000
TIME_LIMIT = 60.0


def _invalid(path: Path, reason: str, index: int | None = None) -> ValidationError:
    where = f"{path}" + (f", config #{index}" if index is not None else "")
    return ValidationError(
        f"{where}: {reason}",
        remediation="Define CONFIG (a run config or a list of them) or config_gen() yielding"
        " run configs or (label, config) pairs, as JSON-able values.",
        file=str(path),
        index=index,
    )


def load_sweep(
    path: Path, *, max_configs: int = MAX_CONFIGS, time_limit: float = TIME_LIMIT
) -> Sweep:
    """Run the file in a subprocess and collect its configs; every problem names the file.

    The file is user code: it runs isolated (``daglab._sweep_child``), its configs come back as
    JSON, and it gets ``time_limit`` seconds and at most ``max_configs`` configs, so a file that
    exits, loops or yields without end cannot take daglab down with it.
    """
    import json
    import os
    import queue
    import signal
    import subprocess
    import sys

    if not path.is_file():
        raise ValidationError(f"{path}: no such file", remediation="Give the path of a .py file.")
    child = subprocess.Popen(  # noqa: S603  fixed argv, no shell
        [sys.executable, "-m", "daglab._sweep_child", str(path.resolve())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,  # so the whole group (and what the file started) can be stopped
    )
    assert child.stdout is not None  # noqa: S101  type narrowing, an invariant
    lines: queue.Queue[bytes] = queue.Queue()

    def read(stream: Any) -> None:
        for line in stream:
            lines.put(line)
        lines.put(b"")

    reader = threading.Thread(target=read, args=(child.stdout,), daemon=True)
    reader.start()
    items: list[SweepItem] = []
    deadline = time.monotonic() + time_limit
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise _invalid(
                    path,
                    f"gave {len(items)} config(s) and was still running after {time_limit:g} s;"
                    " it was stopped (performance.sweep_time_limit)",
                ) from None
            if not line:
                code = child.wait()
                raise _invalid(
                    path,
                    f"the file ended (exit code {code}) before giving all its configs;"
                    " see its output above",
                )
            message = json.loads(line)
            if "item" in message:
                if len(items) >= max_configs:
                    raise ValidationError(
                        f"{path}: gives more than {max_configs} configs; it was stopped",
                        remediation="Raise the cap with --max-configs N (or"
                        " performance.sweep_max_configs), or make the sweep smaller.",
                        file=str(path),
                        max_configs=max_configs,
                    )
                item = message["item"]
                partition = item.get("partition")
                items.append(
                    SweepItem(
                        len(items),
                        str(item["label"]),
                        item["config"],
                        None if partition is None else str(partition),
                    )
                )
            elif "error" in message:
                raise _invalid(path, str(message["error"]), message.get("index"))
            else:
                break
    finally:
        if child.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        reader.join(timeout=5)
        child.stdout.close()
    return Sweep(path, items)


def merge_config(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, mapping by mapping (``over`` wins for anything else)."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_config(below, value)
        else:
            merged[key] = value
    return merged


def plan_sweep(
    client: DagsterClient, target: Target, sweep: Sweep, default: str | None = None
) -> dict[int, PartitionPlan]:
    """Each config's partition (its own, else ``default``) checked against the partitions
    Dagster reports for ``target``, before anything is launched. Every config with a missing
    or unknown partition is reported at once (exit 7, naming its index and key)."""
    from daglab._partitions._backfill import PartitionChoice
    from daglab._runs import plan_partitions

    planned: dict[str | None, PartitionPlan | ValidationError] = {}
    plans: dict[int, PartitionPlan] = {}
    bad: list[str] = []
    for item in sweep.items:
        key = item.partition or default
        if key not in planned:  # one look-up per distinct partition
            try:
                choice = PartitionChoice(key=key) if key is not None else None
                planned[key] = plan_partitions(client, target, choice)
            except ValidationError as exc:
                planned[key] = exc
        plan = planned[key]
        if isinstance(plan, ValidationError):
            given = f" (partition {key!r})" if key is not None else " (no partition)"
            bad.append(f"  config #{item.index} ({item.label}){given}: {plan.message}")
        else:
            plans[item.index] = plan
    if bad:
        raise ValidationError(
            f"{sweep.path}: {len(bad)} config(s) have no valid partition for {target.label}:\n"
            + "\n".join(bad),
            remediation="Nothing was launched. Give each config its partition"
            " ({'partition': KEY, 'config': {...}}) or pass --partition KEY as the sweep's"
            " default; multi-dimensional keys as dim=key,dim=key"
            " (`daglab partitions list ASSET` shows the keys).",
            file=str(sweep.path),
            configs=[line.strip() for line in bad],
        )
    return plans


@dataclass
class SweepResult:
    item: SweepItem
    run_id: str | None = None
    status: str = "NOT_LAUNCHED"
    duration: float | None = None
    url: str | None = None
    error: str | None = None
    #: The partition the config ran for (its own, or the sweep's default).
    partition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.item.index,
            "label": self.item.label,
            "partition": self.partition,
            "run_id": self.run_id,
            "status": self.status,
            "duration": self.duration,
            "url": self.url,
            "error": self.error,
        }


def run_sweep(
    sweep: Sweep,
    launch_one: Callable[[SweepItem, dict[str, str]], tuple[str, str | None]],
    wait_one: Callable[[str], tuple[str, float | None, str | None]],
    *,
    parallel: int,
    fail_fast: bool,
    on_result: Callable[[SweepResult], None] | None = None,
    target: str | None = None,
    partitions: Mapping[int, str | None] | None = None,
    on_stop: Callable[[], None] | None = None,
    mode: str = "dagster",
) -> list[SweepResult]:
    """Launch every config (at most ``parallel`` at a time) and wait for each.

    ``launch_one(item, tags) -> (run_id, url)``; ``wait_one(run_id) -> (status, duration,
    error)``. With ``fail_fast`` no new run starts after one fails; a refusal (sandbox,
    credentials) or a lost server stops the sweep and is raised once the runs in flight end.
    ``partitions`` maps a config's index to the partition it runs for. ``on_stop`` is called
    once when the sweep stops early (a failure with ``fail_fast``, or an interrupt), to end
    what is in flight. The sweep is recorded in the local history (``target`` names what it
    ran, ``mode`` how: ``"dagster"`` or ``"inprocess"``) for ``daglab stats``.
    """
    chosen = partitions or {}
    results = [
        SweepResult(item, partition=chosen.get(item.index, item.partition)) for item in sweep.items
    ]
    stop = threading.Event()
    launch_lock = threading.Lock()
    fatal: list[DaglabError] = []
    stopped = threading.Lock()

    def halt() -> None:
        stop.set()
        if on_stop is not None and stopped.acquire(blocking=False):  # once
            on_stop()

    def work(result: SweepResult) -> None:
        if stop.is_set():
            result.status = "SKIPPED"
            return
        tags = {
            SWEEP_TAG: sweep.sweep_id,
            "daglab/sweep-index": str(result.item.index),
            "daglab/sweep-label": result.item.label[:200],
        }
        try:
            with launch_lock:  # the concurrency bound is checked and taken atomically
                result.run_id, result.url = launch_one(result.item, tags)
            result.status, result.duration, result.error = wait_one(result.run_id)
        except SweepSkipped:
            result.status = "SKIPPED"
            return
        except (AuthenticationError, ConnectivityError) as exc:
            # Refused or unreachable concerns every config alike: the sweep stops with it.
            result.status = "ERROR"
            result.error = exc.message
            fatal.append(exc)
            halt()
        except Exception as exc:  # one config's failure must not end the others
            result.status = "ERROR"
            result.error = str(exc)
        log.info(
            "sweep %s #%d %s: %s", sweep.sweep_id, result.item.index, result.run_id, result.status
        )
        if result.status != "SUCCESS" and fail_fast and not stop.is_set():
            halt()
        if on_result is not None:
            on_result(result)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(work, result) for result in results]
        try:
            for future in futures:
                future.result()
        except BaseException:  # Ctrl-C: launch nothing more, end what runs, then re-raise
            halt()
            raise
    with suppress(Exception):  # history is a convenience: it never fails the sweep
        from daglab import _history

        _history.record(
            "sweep",
            {
                "sweep_id": sweep.sweep_id,
                "target": target,
                "file": str(sweep.path),
                "mode": mode,
                "partitions": [r.partition for r in results],
                "statuses": [r.status for r in results],
                "count": len(results),
                "successes": sum(r.status == "SUCCESS" for r in results),
                "duration_s": round(time.monotonic() - started, 3),
            },
        )
    if fatal:
        first = fatal[0]
        first.details.setdefault("sweep_id", sweep.sweep_id)
        first.details.setdefault("results", [r.to_dict() for r in results])
        raise first
    return results
