"""What ``daglab doctor`` finds: one :class:`Check` per question, and the report of them all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daglab._report import Check, CheckReport, Status

__all__ = ["Check", "DoctorOptions", "DoctorReport", "Status"]


@dataclass
class DoctorReport(CheckReport):
    """The environment's checks; a critical failure exits with its own code (3 by default)."""


@dataclass(frozen=True)
class DoctorOptions:
    start: Path
    fix: bool = False
    check_deps: bool = False
    timeout: float = 3.0
    environ: dict[str, str] | None = None
