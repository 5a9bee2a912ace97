"""Numbers as people read them: percentages, durations, sizes and times."""

from __future__ import annotations

import math
from typing import Any

from daglab._client._models import (
    ASSET_JOB,
)


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def format_percent(value: float | None) -> str:
    """``83%``; ``-`` for nothing."""
    return "-" if value is None else f"{value:.0%}"


def format_seconds(value: Any) -> str:
    """``12.3 s``, ``4 min 5 s``, ``2 h 3 min``; ``-`` for nothing."""
    seconds = _number(value)
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)} min {rest:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"


def format_bytes(size: Any) -> str:
    number = _number(size)
    if number is None:
        return "-"
    value = number
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def when(stamp: str | None) -> str:
    """An ISO time from the report as ``2026-11-23 13:16``."""
    return stamp[:16].replace("T", " ") if stamp else "-"


def job_label(name: str) -> str:
    return "(asset selection)" if name == ASSET_JOB else name
