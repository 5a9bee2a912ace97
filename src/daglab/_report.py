"""A report of checks, as ``daglab doctor`` and ``daglab audit`` present them: one :class:`Check`
per question (ok / warn / fail with a remediation), and the report that decides the exit code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from daglab._errors import ExitCode

__all__ = ["Check", "CheckReport", "Status"]

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
class CheckReport:
    """The checks in the order they ran; the first critical failure decides the exit code."""

    checks: list[Check]

    #: The exit code of a critical failure that does not name its own.
    default_exit_code = ExitCode.ENVIRONMENT

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail" and c.critical]

    @property
    def exit_code(self) -> int:
        if not self.failed:
            return 0
        return int(self.failed[0].exit_code or self.default_exit_code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "exit_code": self.exit_code,
            "checks": [asdict(c) for c in self.checks],
        }
