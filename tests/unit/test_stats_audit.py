"""The audit trail's part of `daglab stats`: counts by origin and operation, in every output."""

from __future__ import annotations

from pathlib import Path

from daglab import _stats
from daglab._history import Event
from daglab._stats import DagsterPart, HistoryPart, Stats, summarise_audit

NOW = 1_780_000_000.0


def audit(origin: str, operation: str, outcome: str, run_id: str | None = None) -> Event:
    data = {"origin": origin, "operation": operation, "digest": "0" * 16, "outcome": outcome}
    return Event("audit", NOW, {**data, "run_id": run_id})


EVENTS = [
    audit("cli", "launchRun", "ok", "r1"),
    audit("cli", "launchRun", "refused"),
    audit("mcp", "launchRun", "ok", "r2"),
    audit("mcp", "terminateRun", "error: TerminateRunFailure", "r2"),
    audit("mcp", "launchPartitionBackfill", "ok", "b1"),
    audit("notebook", "<script>alert(1)</script>", "ok"),
    Event("export", NOW, {"path": "x.html"}),
]


def test_counts_by_origin_and_operation() -> None:
    trail = summarise_audit(EVENTS)
    assert (trail["total"], trail["changes"], trail["refusals"], trail["errors"]) == (6, 4, 1, 1)
    assert list(trail["by_origin"]) == ["mcp", "cli", "notebook"]  # most first
    assert trail["by_origin"]["mcp"]["by_operation"]["terminateRun"] == {
        "changes": 0,
        "refusals": 0,
        "errors": 1,
    }
    assert trail["by_operation"]["launchRun"] == {"changes": 2, "refusals": 1, "errors": 0}
    assert [e["run_id"] for e in trail["last"]][:2] == [None, "b1"]  # newest first
    assert summarise_audit([])["total"] == 0


def test_in_the_json_and_the_html_report() -> None:
    stats = Stats(
        None,
        NOW + 100,
        Path("/p"),
        DagsterPart("http://localhost:3000", False, error="down", remediation="start it"),
        HistoryPart(Path("/p/.daglab/history.jsonl"), True, EVENTS),
    )
    assert stats.to_dict()["audit"]["by_origin"]["cli"]["refusals"] == 1
    page = _stats.render_html(stats)
    assert "Changes in Dagster by origin" in page
    assert "launchPartitionBackfill" in page
    assert "<script>alert(1)</script>" not in page  # names from the history are escaped
