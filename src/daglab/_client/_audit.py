"""The audit trail: each change daglab asks of Dagster, and each the sandbox refuses.

Every mutation the client sends (GraphQL or REST) and every sandbox refusal becomes one
``audit`` event in the project's history (:mod:`daglab._history`): who asked (the client's
``launched_by``), the operation, a short sha256 of its variables (never the values: a run
config may hold secrets), the outcome and the run or backfill it made or touched. Recording is
best effort: it never fails, slows down by more than a file append, or changes the operation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from daglab._logging import get_logger

log = get_logger("client")

OK = "ok"
REFUSED = "refused"


def digest(value: Any) -> str:
    """The first 16 hex digits of the sha256 of ``value`` as canonical JSON."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def error(exc: BaseException) -> str:
    """The outcome of a failed change: the error's class name, never its message."""
    return f"error: {type(exc).__name__}"


def _results(data: Any) -> list[Mapping[str, Any]]:
    if not isinstance(data, Mapping):
        return []
    return [value for value in data.values() if isinstance(value, Mapping)]


def outcome_of(data: Any) -> str:
    """``ok``, or ``error: <Dagster's type>`` when the answer is a typed refusal or failure."""
    for result in _results(data):
        kind = result.get("__typename")
        if isinstance(kind, str) and not kind.endswith("Success"):
            return f"error: {kind}"
    return OK


def subject_of(variables: Mapping[str, Any], data: Any) -> str | None:
    """The run (or backfill) the change made or touched, when there is one."""
    for result in _results(data):
        run = result.get("run")
        if isinstance(run, Mapping) and isinstance(run.get("runId"), str):
            return str(run["runId"])
        if isinstance(result.get("backfillId"), str):
            return str(result["backfillId"])
    for key in ("runId", "backfillId"):
        if isinstance(variables.get(key), str):
            return str(variables[key])
    return None


def record(
    *,
    origin: str,
    operation: str,
    variables: Mapping[str, Any],
    outcome: str,
    run_id: str | None = None,
    start: Path | None = None,
) -> None:
    """Append one ``audit`` event; any problem is logged at DEBUG and otherwise ignored."""
    try:
        from daglab import _history

        event = {
            "origin": origin,
            "operation": operation,
            "digest": digest(variables),
            "outcome": outcome,
            "run_id": run_id,
        }
        _history.record("audit", event, start=start)
    except Exception as exc:  # history is a convenience: never fail the change itself
        log.debug("audit record of %s not written: %s", operation, type(exc).__name__)
