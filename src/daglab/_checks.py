"""Asset check results: what a run's checks said, whether it ran in Dagster or in-process.

A failed check of ERROR severity makes a run unsuccessful in daglab's eyes (exit 4), even though
Dagster marks the run itself SUCCESS; a failed WARN check is reported and does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daglab._client import DagsterClient

__all__ = ["CheckResult", "blocking_failures", "describe_failures", "run_checks"]

#: Events asked for per page when reading a run's log for its checks.
PAGE = 1000


@dataclass(frozen=True)
class CheckResult:
    """One asset check evaluated by a run."""

    asset: str
    name: str
    passed: bool
    severity: str
    description: str | None = None
    partition: str | None = None

    @property
    def failed_error(self) -> bool:
        return not self.passed and self.severity == "ERROR"

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "name": self.name,
            "passed": self.passed,
            "severity": self.severity,
            "description": self.description,
            "partition": self.partition,
        }


def blocking_failures(checks: Sequence[CheckResult]) -> list[CheckResult]:
    """The failed checks that make a run unsuccessful (ERROR severity)."""
    return [check for check in checks if check.failed_error]


def describe_failures(checks: Sequence[CheckResult]) -> str:
    """``asset:check`` for every failed ERROR check, for messages."""
    return ", ".join(f"{c.asset}:{c.name}" for c in blocking_failures(checks))


def run_checks(client: DagsterClient, run_id: str) -> list[CheckResult]:
    """Every asset check evaluation in the run's event log, in order."""
    results: list[CheckResult] = []
    cursor: str | None = None
    while True:
        data = client.execute("run_checks", {"runId": run_id, "cursor": cursor, "limit": PAGE})
        page = client._check(data["logsForRun"], f"run {run_id}")
        for event in page.get("events") or ():
            evaluation = event.get("evaluation")
            if event.get("__typename") != "AssetCheckEvaluationEvent" or not evaluation:
                continue
            results.append(
                CheckResult(
                    asset="/".join(evaluation["assetKey"]["path"]),
                    name=str(evaluation["checkName"]),
                    passed=bool(evaluation.get("success")),
                    severity=str(evaluation.get("severity") or "ERROR"),
                    description=evaluation.get("description"),
                    partition=None,  # not asked for: Dagster 1.11 has no such field
                )
            )
        if not page.get("hasMore"):
            return results
        cursor = page.get("cursor")
