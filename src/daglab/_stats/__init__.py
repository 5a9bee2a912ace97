"""Usage statistics: the runs daglab launched in Dagster, and the local history of the rest.

``sources`` reads Dagster and the history, ``since`` parses ``--since``, ``report`` computes
what is shown (:class:`Stats`), ``formatting`` renders numbers for people, ``render`` writes the
HTML report and the dashboard notebook, ``dashboard`` is that notebook's marimo output,
``audit`` counts the audit trail of the changes daglab made in Dagster.
"""

from __future__ import annotations

from daglab._stats.audit import summarise_audit
from daglab._stats.dashboard import dashboard
from daglab._stats.formatting import (
    format_bytes,
    format_percent,
    format_seconds,
    job_label,
    when,
)
from daglab._stats.render import (
    GENERATOR,
    charts,
    check_destinations,
    render_html,
    render_notebook,
    write_report,
)
from daglab._stats.report import NO_HISTORY, Stats, collect, collect_stats
from daglab._stats.since import SINCE_EXAMPLES, iso, parse_since, since_label
from daglab._stats.sources import (
    MAX_RUNS,
    DagsterPart,
    HistoryPart,
    StatsRun,
    fetch_runs,
    launcher_values,
)

__all__ = [
    "GENERATOR",
    "MAX_RUNS",
    "NO_HISTORY",
    "SINCE_EXAMPLES",
    "DagsterPart",
    "HistoryPart",
    "Stats",
    "StatsRun",
    "charts",
    "check_destinations",
    "collect",
    "collect_stats",
    "dashboard",
    "fetch_runs",
    "format_bytes",
    "format_percent",
    "format_seconds",
    "iso",
    "job_label",
    "launcher_values",
    "parse_since",
    "render_html",
    "render_notebook",
    "since_label",
    "summarise_audit",
    "when",
    "write_report",
]
