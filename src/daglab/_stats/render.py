"""The self-contained HTML report (with SVG charts) and the marimo dashboard notebook."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


from daglab._stats.formatting import format_bytes, format_percent, format_seconds, job_label, when
from daglab._stats.report import Stats

GENERATOR = "daglab stats"
# -- charts and the HTML report -----------------------------------------------------------------

PALETTE = {"runs": "#4f46e5", "ok": "#16a34a", "fail": "#dc2626", "local": "#f59e0b"}


def svg_bars(
    rows: Sequence[tuple[str, float, str]],
    *,
    unit: str = "",
    digits: int = 0,
    plural: bool = False,
    width: int = 360,
) -> str:
    """A horizontal bar chart as inline SVG: ``(label, value, colour)`` per bar; with
    ``plural``, the unit takes an ``s`` unless the value is 1."""
    if not rows:
        return ""
    top = max(value for _, value, _ in rows) or 1.0
    bar, gap, left = 18, 8, 210
    height = (bar + gap) * len(rows) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" height="{height}"'
        ' role="img" class="chart" style="font: 12px sans-serif">'
    ]
    for index, (label, value, colour) in enumerate(rows):
        y = gap + index * (bar + gap)
        length = max(1.0, width * value / top) if value > 0 else 0.0
        shown = label if len(label) <= 32 else label[:31] + "…"
        suffix = unit + ("s" if plural and value != 1 else "")
        number = f"{value:.{digits}f}{' ' + suffix if suffix else ''}"
        parts.append(
            f"<g><title>{html.escape(label)}: {html.escape(number)}</title>"
            f'<text x="0" y="{y + 13}">{html.escape(shown)}</text>'
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{left + length + 5:.1f}" y="{y + 13}">{html.escape(number)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(report: Mapping[str, Any], top: int = 10) -> dict[str, str]:
    """The report's charts as inline SVG, by name; a chart with nothing to show is absent."""
    found: dict[str, str] = {}
    runs = report.get("runs") or {}
    launchers = [
        (k, float(v["runs"]), PALETTE["runs"]) for k, v in runs.get("by_launcher", {}).items()
    ]
    if launchers:
        found["launchers"] = svg_bars(launchers, unit="run", plural=True)
    colours = {"SUCCESS": PALETTE["ok"], "FAILURE": PALETTE["fail"]}
    statuses = [
        (k, float(v), colours.get(k, "#6b7280")) for k, v in runs.get("by_status", {}).items()
    ]
    if statuses:
        found["statuses"] = svg_bars(statuses, unit="run", plural=True)
    jobs = [
        (job_label(j["name"]), float(j["runs"] + j["inprocess_runs"]), PALETTE["runs"])
        for j in report.get("jobs", [])[:top]
    ]
    if jobs:
        found["jobs"] = svg_bars(jobs, unit="run", plural=True)
    assets = [
        (a["key"], float(a["runs"] + a["inprocess_runs"]), PALETTE["runs"])
        for a in report.get("assets", [])[:top]
    ]
    if assets:
        found["assets"] = svg_bars(assets, unit="run", plural=True)
    timing: list[tuple[str, float, str]] = []
    paired = [row for row in report.get("comparison", []) if row["ratio"] is not None]
    for row in paired[:top]:
        if row["ui_mean_s"] is not None:
            timing.append((f"UI {row['target']}", row["ui_mean_s"], PALETTE["runs"]))
        if row["inprocess_mean_s"] is not None:
            timing.append(
                (f"in-process {row['target']}", row["inprocess_mean_s"], PALETTE["local"])
            )
    if timing:
        found["timing"] = svg_bars(timing, unit="s", digits=2)
    return found


@functools.cache
def _html_environment() -> jinja2.Environment:
    from daglab._render import environment

    # daglab's one environment, escaping HTML; its own filters go into a copy of the filter table
    # (an overlay shares its parent's).
    env = environment().overlay(autoescape=True, keep_trailing_newline=False)
    env.filters = {
        **env.filters,
        "seconds": format_seconds,
        "bytes": format_bytes,
        "job": job_label,
        "when": when,
        "percent": format_percent,
    }
    return env


def render_html(stats: Stats) -> str:
    """A self-contained HTML page: inline CSS and SVG charts, no script, nothing fetched."""
    import markupsafe

    report = stats.report
    # svg_bars html-escapes every label and number; the rest is daglab's own markup.
    svg = {name: markupsafe.Markup(chart) for name, chart in charts(report).items()}  # noqa: S704
    template = _html_environment().get_template("stats/report.html.j2")
    return template.render(r=report, charts=svg, generator=GENERATOR)


def render_notebook(*, since: str | None, url: str | None = None, port: int | None = None) -> str:
    """A marimo dashboard notebook that loads the statistics through this module."""
    from daglab._render import render

    try:
        from importlib.metadata import version

        marimo_version = version("marimo")
    except Exception:  # pragma: no cover - marimo is a dependency
        marimo_version = "0.0.0"
    return render(
        "stats/dashboard.py.j2",
        marimo_version=marimo_version,
        since=since or "",
        url=url,
        port=port,
        generator=GENERATOR,
    )


def check_destinations(root: Path, paths: Iterable[Path | None], *, force: bool = False) -> None:
    """Refuse before any work a report path daglab may not write (see ``write_report``)."""
    from daglab._owned import check_destination

    for path in paths:
        if path is not None:
            check_destination(root, path, explicit=True, force=force, what="report")


def write_report(
    root: Path, path: Path, content: str, *, kind: str = "report", force: bool = False
) -> Path:
    """Write a generated report or dashboard as a file daglab owns (see ``daglab._owned``).

    ``path`` was named by the user, so it may be outside the project at ``root`` (in a folder
    that exists); a file there that daglab did not write is refused (exit 8) unless ``force``.
    """
    from daglab._owned import write_owned

    write_owned(root, path, content, generator="stats", kind=kind, explicit=True, force=force)
    return path
