"""The statistics as marimo output, for the dashboard notebook."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from daglab._errors import DaglabError
from daglab._stats.formatting import format_bytes, format_percent, format_seconds
from daglab._stats.render import charts
from daglab._stats.report import NO_HISTORY, collect_stats

# -- the notebook dashboard ---------------------------------------------------------------------


def dashboard(
    since: str | None = None,
    *,
    project: Path | str | None = None,
    url: str | None = None,
    port: int | None = None,
) -> Any:
    """The statistics as marimo output: headline, figures, tables and charts.

    A bad ``since`` or configuration becomes a callout with its remedy, never an exception.
    """
    import marimo as mo

    try:
        stats = collect_stats(since or None, project=project, url=url, port=port)
    except DaglabError as exc:
        return mo.callout(mo.md(f"**{exc.message}**\n\n{exc.remediation}"), kind="danger")
    report = stats.report
    parts: list[Any] = [mo.md(f"## {html.escape(report['headline'])}")]
    dagster = report["dagster"]
    if not dagster["available"]:
        parts.append(
            mo.callout(mo.md(f"**{dagster['error']}**\n\n{dagster['remediation']}"), kind="warn")
        )
    runs = report["runs"] or {}
    inprocess = report["inprocess"]
    cards: list[tuple[str, str, str]] = []  # value, label, caption
    if runs:
        duration = runs["duration"]
        cards += [
            (
                str(runs["total"]),
                "runs in Dagster",
                f"success {format_percent(runs['success_rate'])}",
            ),
            (
                format_seconds(duration["mean_s"]),
                "mean duration",
                f"median {format_seconds(duration['median_s'])}",
            ),
        ]
    exports = report["exports"]
    cards += [
        (
            str(inprocess["total"]),
            "in-process runs",
            f"mean {format_seconds(inprocess['duration']['mean_s'])}",
        ),
        (str(exports["total"]), "exports", format_bytes(exports["total_bytes"])),
    ]
    tiles = [mo.stat(value, label=label, caption=caption) for value, label, caption in cards]
    parts.append(mo.hstack(tiles, justify="start"))
    titles = {
        "launchers": "Runs by launcher",
        "statuses": "Runs by status",
        "jobs": "Most-used jobs",
        "assets": "Most-used assets",
        "timing": "In-process vs UI (mean seconds, successful runs)",
    }
    for name, svg in charts(report).items():
        parts += [mo.md(f"### {titles[name]}"), mo.Html(svg)]
    tables = {
        "Jobs": report["jobs"],
        "Assets": report["assets"],
        "In-process vs UI": report["comparison"],
        "Exports": report["exports"]["last"],
        "Sweeps": report["sweeps"]["last"],
    }
    for title, rows in tables.items():
        if rows:
            parts += [mo.md(f"### {title}"), mo.ui.table(rows, selection=None)]
    if not report["history"]["available"]:
        parts.append(mo.md(f"_No local history: {NO_HISTORY}_"))
    return mo.vstack(parts)
