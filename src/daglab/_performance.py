"""Timings, memory and run measurements a notebook collects, to compare UI and in-process runs.

One :class:`PerformanceTracker` per process is what :func:`track_performance` returns, so every
cell of a notebook adds to (and reads) the same measurements. The tracker is safe to use from
several threads. ``psutil`` is imported only when memory is measured.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from daglab._errors import ValidationError, did_you_mean

if TYPE_CHECKING:
    from daglab._inprocess import InProcessResult

__all__ = [
    "Comparison",
    "Measurement",
    "MemoryInfo",
    "PerformanceTracker",
    "Timing",
    "track_performance",
]

RunKind = Literal["ui", "inprocess"]
RUN_KINDS: tuple[str, ...] = get_args(RunKind)


@dataclass(frozen=True)
class MemoryInfo:
    """Memory of this process and its children: bytes resident (``rss``) and virtual (``vms``),
    and ``percent`` of the machine's physical memory; ``processes`` counts what was summed."""

    rss: int
    vms: int
    percent: float
    processes: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "rss": self.rss,
            "vms": self.vms,
            "percent": self.percent,
            "processes": self.processes,
        }


@dataclass(frozen=True)
class Measurement:
    """One run: ``kind`` is ``"ui"`` (launched through Dagster) or ``"inprocess"``."""

    label: str
    kind: RunKind
    duration_s: float
    success: bool
    rss_bytes: int | None = None
    run_id: str | None = None
    recorded_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "duration_s": self.duration_s,
            "success": self.success,
            "rss_bytes": self.rss_bytes,
            "run_id": self.run_id,
            "recorded_at": self.recorded_at,
        }


@dataclass(frozen=True)
class Comparison:
    """``a`` against ``b``: differences are ``a - b``; ``duration_ratio`` is ``a / b``
    (``None`` when ``b`` took no measurable time), so 0.1 means ``a`` took a tenth as long."""

    a: Measurement
    b: Measurement
    duration_diff_s: float
    duration_ratio: float | None
    rss_diff_bytes: int | None

    @property
    def faster(self) -> Literal["a", "b", "same"]:
        if self.a.duration_s == self.b.duration_s:
            return "same"
        return "a" if self.a.duration_s < self.b.duration_s else "b"

    def describe(self) -> str:
        """One line, e.g. ``inprocess daily_summary: 0.21 s, 11.9x faster than ui ...``."""
        first = f"{self.a.kind} {self.a.label}: {self.a.duration_s:.2f} s"
        second = f"{self.b.kind} {self.b.label} ({self.b.duration_s:.2f} s)"
        if self.faster == "same":
            return f"{first}, as fast as {second}"
        slow, quick = sorted((self.a.duration_s, self.b.duration_s), reverse=True)
        factor = f"{slow / quick:.1f}x " if quick > 0 else ""
        word = "faster" if self.faster == "a" else "slower"
        return f"{first}, {factor}{word} than {second}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "duration_diff_s": self.duration_diff_s,
            "duration_ratio": self.duration_ratio,
            "rss_diff_bytes": self.rss_diff_bytes,
            "faster": self.faster,
        }


@dataclass
class Timing:
    """What ``with tracker.timing(op) as t:`` yields; ``seconds`` is set when the block ends."""

    op: str
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "seconds": self.seconds}


def _memory_usage() -> MemoryInfo:
    import psutil  # defer for import performance

    process = psutil.Process()
    info = process.memory_info()
    rss, vms, percent, count = int(info.rss), int(info.vms), float(process.memory_percent()), 1
    try:
        children = process.children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            child_info = child.memory_info()
            child_percent = float(child.memory_percent())
        except psutil.Error:  # it ended, or is not ours to inspect
            continue
        rss += int(child_info.rss)
        vms += int(child_info.vms)
        percent += child_percent
        count += 1
    return MemoryInfo(rss=rss, vms=vms, percent=percent, processes=count)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


class PerformanceTracker:
    """Named timings, memory snapshots and run measurements, safe to share between threads.

    ``start_timing`` on an operation already started restarts it (a cell that failed midway can
    simply run again). At most ``max_records`` measurements are kept, oldest dropped first.
    """

    def __init__(self, *, max_records: int = 10_000) -> None:
        if max_records < 1:
            raise ValidationError(
                f"max_records must be at least 1, not {max_records}",
                remediation="Pass max_records=1 or more.",
            )
        self.max_records = max_records
        self._lock = threading.RLock()
        self._started: dict[str, float] = {}
        self._timings: dict[str, list[float]] = {}
        self._records: list[Measurement] = []

    # -- timings ------------------------------------------------------------------------------

    def start_timing(self, op: str) -> None:
        with self._lock:
            self._started[op] = time.perf_counter()

    def end_timing(self, op: str) -> float:
        """Seconds since ``start_timing(op)``; the timing is kept in :attr:`timings`."""
        now = time.perf_counter()
        with self._lock:
            started = self._started.pop(op, None)
            if started is None:
                import difflib

                pending = difflib.get_close_matches(op, list(self._started), n=1)
                hint = f"; did you mean {pending[0]!r}?" if pending else ""
                raise ValidationError(
                    f"timing {op!r} was never started{hint}",
                    remediation=(
                        f"Call start_timing({op!r}) first, or use `with tracker.timing({op!r}):`."
                    ),
                )
            seconds = now - started
            self._timings.setdefault(op, []).append(seconds)
            return seconds

    @contextmanager
    def timing(self, op: str) -> Iterator[Timing]:
        """Time a block; kept in :attr:`timings` even when the block raises."""
        result = Timing(op)
        started = time.perf_counter()
        try:
            yield result
        finally:
            result.seconds = time.perf_counter() - started
            with self._lock:
                self._timings.setdefault(op, []).append(result.seconds)

    @property
    def timings(self) -> dict[str, tuple[float, ...]]:
        """Every completed timing, in seconds, per operation."""
        with self._lock:
            return {op: tuple(values) for op, values in self._timings.items()}

    # -- memory -------------------------------------------------------------------------------

    @staticmethod
    def get_memory_usage() -> MemoryInfo:
        """Memory of this process and its children now (via psutil)."""
        return _memory_usage()

    # -- runs ---------------------------------------------------------------------------------

    def record(
        self,
        label: str,
        kind: RunKind,
        duration_s: float,
        success: bool,
        rss_bytes: int | None = None,
        run_id: str | None = None,
    ) -> Measurement:
        """Keep one run's measurement; ``kind`` is ``"ui"`` or ``"inprocess"``."""
        if kind not in RUN_KINDS:
            raise ValidationError(
                f"kind must be one of {', '.join(RUN_KINDS)}, not {kind!r}",
                remediation="Record UI runs with kind='ui' and in-process runs with 'inprocess'.",
            )
        duration = float(duration_s)
        if not math.isfinite(duration) or duration < 0:
            raise ValidationError(
                f"duration_s must be a non-negative number of seconds, not {duration_s!r}",
                remediation="Pass the run's wall time in seconds.",
            )
        if rss_bytes is not None and rss_bytes < 0:
            raise ValidationError(
                f"rss_bytes must not be negative, not {rss_bytes!r}",
                remediation="Pass the resident memory in bytes, or leave it out.",
            )
        measurement = Measurement(
            label=str(label),
            kind=kind,
            duration_s=duration,
            success=bool(success),
            rss_bytes=None if rss_bytes is None else int(rss_bytes),
            run_id=run_id,
        )
        with self._lock:
            self._records.append(measurement)
            del self._records[: max(0, len(self._records) - self.max_records)]
        return measurement

    def record_inprocess(self, result: InProcessResult, label: str | None = None) -> Measurement:
        """Record an in-process run; its memory is the peak RSS seen during the run."""
        rss = result.rss_after_bytes
        if result.rss_before_bytes is not None and result.rss_peak_delta is not None:
            rss = result.rss_before_bytes + result.rss_peak_delta
        return self.record(
            label or result.target,
            "inprocess",
            result.duration_s,
            result.success,
            rss_bytes=rss,
            run_id=result.run_id,
        )

    @property
    def records(self) -> tuple[Measurement, ...]:
        with self._lock:
            return tuple(self._records)

    def find(self, label_or_run_id: str) -> Measurement:
        """The newest measurement with this run id, else with this label.

        ``"ui:label"`` or ``"inprocess:label"`` restricts the label to one kind (UI and
        in-process runs of the same target share a label).
        """
        records = self.records
        for measurement in reversed(records):
            if measurement.run_id == label_or_run_id:
                return measurement
        kind, sep, label = label_or_run_id.partition(":")
        for measurement in reversed(records):
            if measurement.label == label_or_run_id or (
                sep and kind == measurement.kind and measurement.label == label
            ):
                return measurement
        known = (
            {m.label for m in records}
            | {f"{m.kind}:{m.label}" for m in records}
            | {m.run_id for m in records if m.run_id}
        )
        hint = did_you_mean(label_or_run_id, known)
        raise ValidationError(
            f"no measurement with run id or label {label_or_run_id!r}{hint}",
            remediation=(
                "Record the run first; compare by label, 'ui:label', 'inprocess:label' or run id."
                if records
                else "Nothing is recorded yet: launch a run or run in-process first."
            ),
        )

    def compare_runs(self, a: str | Measurement, b: str | Measurement) -> Comparison:
        """Compare two runs, each a :class:`Measurement`, a run id or a label (see :meth:`find`)."""
        first = a if isinstance(a, Measurement) else self.find(a)
        second = b if isinstance(b, Measurement) else self.find(b)
        ratio = first.duration_s / second.duration_s if second.duration_s > 0 else None
        rss_diff = (
            first.rss_bytes - second.rss_bytes
            if first.rss_bytes is not None and second.rss_bytes is not None
            else None
        )
        return Comparison(
            a=first,
            b=second,
            duration_diff_s=first.duration_s - second.duration_s,
            duration_ratio=ratio,
            rss_diff_bytes=rss_diff,
        )

    def summary(self) -> dict[str, Any]:
        """Per kind (``ui``, ``inprocess``): count, success rate, mean and median duration
        (failed runs included), mean RSS of the runs that have one; plus per-operation timings.
        Statistics of a kind without runs are ``None``."""
        records = self.records
        timings = self.timings
        result: dict[str, Any] = {}
        for kind in RUN_KINDS:
            runs = [m for m in records if m.kind == kind]
            durations = [m.duration_s for m in runs]
            memory = [float(m.rss_bytes) for m in runs if m.rss_bytes is not None]
            result[kind] = {
                "count": len(runs),
                "success_rate": sum(m.success for m in runs) / len(runs) if runs else None,
                "mean_duration_s": _mean(durations),
                "median_duration_s": statistics.median(durations) if durations else None,
                "mean_rss_bytes": _mean(memory),
            }
        result["timings"] = {
            op: {
                "count": len(values),
                "total_s": sum(values),
                "mean_s": statistics.fmean(values),
                "last_s": values[-1],
            }
            for op, values in timings.items()
            if values
        }
        return result

    def reset(self) -> None:
        """Forget every timing and measurement."""
        with self._lock:
            self._started.clear()
            self._timings.clear()
            self._records.clear()

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": [m.to_dict() for m in self.records],
            "timings": {op: list(values) for op, values in self.timings.items()},
            "summary": self.summary(),
        }


_DEFAULT: PerformanceTracker | None = None
_DEFAULT_LOCK = threading.Lock()


def track_performance(*, reset: bool = False) -> PerformanceTracker:
    """The process-wide tracker every notebook cell shares; ``reset=True`` empties it first."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = PerformanceTracker()
        tracker = _DEFAULT
    if reset:
        tracker.reset()
    return tracker
