"""What notebooks show about the runs they measured: timing and memory, and runs compared.

Marimo is imported only when a view is built.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daglab._performance import PerformanceTracker
    from daglab._session import Connection
    from daglab._state import NotebookState

__all__ = ["bar_chart", "compare_runs", "performance"]


def _mo() -> Any:
    import marimo as mo

    return mo


def bar_chart(rows: Sequence[tuple[str, float]], *, unit: str, width: int = 420) -> str:
    """A small horizontal bar chart as inline SVG (no plotting library needed)."""
    if not rows:
        return ""
    top = max(value for _, value in rows) or 1.0
    bar = 18
    height = (bar + 8) * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 260}" height="{height}"'
        ' role="img" style="font: 12px sans-serif">'
    ]
    for index, (label, value) in enumerate(rows):
        y = 8 + index * (bar + 8)
        length = max(1.0, width * value / top)
        colour = "#4f46e5" if label.startswith("ui") else "#f59e0b"
        parts.append(
            f'<text x="0" y="{y + 13}">{html.escape(label[:28])}</text>'
            f'<rect x="170" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{175 + length:.1f}" y="{y + 13}">{value:.2f} {unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def performance(tracker: PerformanceTracker) -> Any:
    """Run times and memory of UI runs vs in-process runs, and success rates."""
    mo = _mo()
    records = list(tracker.records)
    if not records:
        return mo.md("_No runs measured yet: launch a run or run in-process._")
    summary = tracker.summary()
    stats = []
    for kind in ("ui", "inprocess"):
        block = summary.get(kind) or {}
        if block.get("count"):
            stats.append(
                mo.stat(
                    f"{block.get('success_rate', 0) * 100:.0f}%",
                    label=f"{'UI' if kind == 'ui' else 'in-process'} success",
                    caption=f"{block['count']} run(s), mean"
                    f" {block.get('mean_duration_s', 0):.2f} s",
                )
            )
    recent = records[-12:]
    timing = [(f"{r.kind} {r.label}", float(r.duration_s)) for r in recent]
    memory = [
        (f"{r.kind} {r.label}", r.rss_bytes / 2**20) for r in recent if r.rss_bytes is not None
    ]
    parts: list[Any] = [mo.hstack(stats, justify="start")] if stats else []
    parts += [mo.md("**Run time**"), mo.Html(bar_chart(timing, unit="s"))]
    if memory:
        parts += [mo.md("**Memory (RSS)**"), mo.Html(bar_chart(memory, unit="MiB"))]
    return mo.vstack(parts)


def compare_runs(conn: Connection, state: NotebookState) -> Any:
    """This notebook's runs side by side: the config values each used, status, duration and
    the numeric metadata (metrics) their materializations recorded."""
    from daglab._notebooks.views import attempt

    mo = _mo()
    runs = list(state.get("runs") or [])
    if not runs:
        return mo.md("_Launch runs with different configs to compare them here._")
    rows: list[dict[str, Any]] = []
    client = conn.client if conn.ok else None
    for entry in runs[-50:]:
        row: dict[str, Any] = {"run": entry["run_id"][:8]}
        if client is not None:
            found = attempt(client.run, entry["run_id"], state=state)
            if found.value is not None:
                row["status"] = found.value.status
                duration = found.value.duration
                row["duration_s"] = round(duration, 2) if duration is not None else None
            metrics = attempt(client.run_metrics, entry["run_id"], state=state)
            row.update(metrics.value or {})
        row.update(_flatten(entry.get("config") or {}))
        rows.append(row)
    return mo.ui.table(rows, selection=None, label="Runs by config")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value if isinstance(value, int | float | str | bool) else str(value)
    return flat
