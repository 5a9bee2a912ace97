"""The audit trail's part of the report: the changes daglab made in Dagster, and the sandbox's
refusals, by who asked (``cli``, ``notebook``, ``mcp``, ``sweep``...) and by operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from daglab._history import Event
from daglab._stats.since import iso

#: How many of the latest audit events the report lists.
LAST = 10
OUTCOMES = ("changes", "refusals", "errors")


def _outcome(event: Event) -> str:
    outcome = str(event.data.get("outcome") or "")
    if outcome == "ok":
        return "changes"
    if outcome == "refused":
        return "refusals"
    return "errors"


def _counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


def _order(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    def total(row: dict[str, Any]) -> int:
        return sum(int(row[o]) for o in OUTCOMES)

    return dict(sorted(rows.items(), key=lambda kv: (-total(kv[1]), kv[0])))


def summarise_audit(events: Sequence[Event]) -> dict[str, Any]:
    """Counts of changes (``ok``), refusals and errors, in all, by origin and by operation."""
    audit = [e for e in events if e.kind == "audit"]
    totals = _counts()
    by_origin: dict[str, dict[str, Any]] = {}
    by_operation: dict[str, dict[str, Any]] = {}
    for event in audit:
        origin = str(event.data.get("origin") or "unknown")
        operation = str(event.data.get("operation") or "unknown")
        outcome = _outcome(event)
        totals[outcome] += 1
        row = by_origin.setdefault(origin, {**_counts(), "by_operation": {}})
        row[outcome] += 1
        row["by_operation"].setdefault(operation, _counts())[outcome] += 1
        by_operation.setdefault(operation, _counts())[outcome] += 1
    for row in by_origin.values():
        row["by_operation"] = _order(row["by_operation"])
    last = [
        {
            "at": iso(e.at),
            **{k: e.data.get(k) for k in ("origin", "operation", "outcome", "run_id")},
        }
        for e in reversed(audit[-LAST:])
    ]
    return {
        "total": len(audit),
        **totals,
        "by_origin": _order(by_origin),
        "by_operation": _order(by_operation),
        "last": last,
    }
