"""What ``daglab doctor`` finds: one :class:`Check` per question, and the report of them all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from daglab._errors import ExitCode

Status = Literal["ok", "warn", "fail", "skip", "fixed"]


@dataclass
class Check:
    name: str
    status: Status
    summary: str
    remediation: str | None = None
    critical: bool = False
    exit_code: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DoctorReport:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail" and c.critical]

    @property
    def exit_code(self) -> int:
        return int(self.failed[0].exit_code or ExitCode.ENVIRONMENT) if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "exit_code": self.exit_code,
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass(frozen=True)
class DoctorOptions:
    start: Path
    fix: bool = False
    check_deps: bool = False
    timeout: float = 3.0
    environ: dict[str, str] | None = None
