"""Python-first sweeps: a file that defines ``CONFIG`` or ``config_gen()`` yields run configs.

    CONFIG = {"ops": {...}}                 # one run config
    CONFIG = [{...}, {...}]                 # several
    def config_gen():                       # or a generator, of configs or (label, config)
        for lr in (0.01, 0.1):
            yield f"lr={lr}", {"ops": {"train": {"config": {"lr": lr}}}}

Each config becomes one Dagster run tagged with the sweep's id and the config's index.
"""

from __future__ import annotations

import runpy
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daglab._client._models import SWEEP_TAG
from daglab._errors import ValidationError
from daglab._logging import get_logger

log = get_logger("sweeps")


@dataclass(frozen=True)
class SweepItem:
    index: int
    label: str
    config: dict[str, Any]


@dataclass(frozen=True)
class Sweep:
    path: Path
    items: list[SweepItem]
    sweep_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def _invalid(path: Path, reason: str, index: int | None = None) -> ValidationError:
    where = f"{path}" + (f", config #{index}" if index is not None else "")
    return ValidationError(
        f"{where}: {reason}",
        remediation="Define CONFIG (a run config or a list of them) or config_gen() yielding"
        " run configs or (label, config) pairs.",
        file=str(path),
        index=index,
    )


def _item(path: Path, index: int, value: Any) -> SweepItem:
    label = f"#{index}"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        label, value = value
    if not isinstance(value, Mapping):
        raise _invalid(path, f"a run config must be a mapping, not {type(value).__name__}", index)
    return SweepItem(index, label, dict(value))


def load_sweep(path: Path) -> Sweep:
    """Run the file and collect its configs; every problem names the file and the index."""
    if not path.is_file():
        raise ValidationError(f"{path}: no such file", remediation="Give the path of a .py file.")
    try:
        namespace = runpy.run_path(str(path), run_name="__daglab_sweep__")
    except Exception as exc:
        raise _invalid(path, f"the file raised {type(exc).__name__}: {exc}") from exc
    if "config_gen" in namespace:
        generator = namespace["config_gen"]
        if not callable(generator):
            raise _invalid(path, "config_gen is not callable")
        items: list[SweepItem] = []
        try:
            for index, value in enumerate(generator()):
                items.append(_item(path, index, value))
        except ValidationError:
            raise
        except Exception as exc:
            raise _invalid(
                path, f"config_gen raised {type(exc).__name__}: {exc}", len(items)
            ) from exc
    elif "CONFIG" in namespace:
        raw = namespace["CONFIG"]
        values = raw if isinstance(raw, list | tuple) and not _is_pair(raw) else [raw]
        items = [_item(path, i, value) for i, value in enumerate(values)]
    else:
        raise _invalid(path, "defines neither CONFIG nor config_gen")
    if not items:
        raise _invalid(path, "produced no run configs")
    return Sweep(path, items)


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)


@dataclass
class SweepResult:
    item: SweepItem
    run_id: str | None = None
    status: str = "NOT_LAUNCHED"
    duration: float | None = None
    url: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.item.index,
            "label": self.item.label,
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
) -> list[SweepResult]:
    """Launch every config (at most ``parallel`` at a time) and wait for each.

    ``launch_one(item, tags) -> (run_id, url)``; ``wait_one(run_id) -> (status, duration,
    error)``. With ``fail_fast`` no new run starts after one fails. The sweep is recorded in
    the local history (``target`` names what it ran) for ``daglab stats``.
    """
    results = [SweepResult(item) for item in sweep.items]
    stop = threading.Event()
    launch_lock = threading.Lock()

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
        except Exception as exc:  # one config's failure must not end the others
            result.status = "ERROR"
            result.error = str(exc)
        log.info(
            "sweep %s #%d %s: %s", sweep.sweep_id, result.item.index, result.run_id, result.status
        )
        if result.status != "SUCCESS" and fail_fast:
            stop.set()
        if on_result is not None:
            on_result(result)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(work, results))
    with suppress(Exception):  # history is a convenience: it never fails the sweep
        from daglab import _history

        _history.record(
            "sweep",
            {
                "sweep_id": sweep.sweep_id,
                "target": target,
                "file": str(sweep.path),
                "count": len(results),
                "successes": sum(r.status == "SUCCESS" for r in results),
                "duration_s": round(time.monotonic() - started, 3),
            },
        )
    return results
