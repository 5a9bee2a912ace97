"""``daglab stats``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, endpoint_overrides

if TYPE_CHECKING:
    from rich.console import Console

    from daglab._stats import Stats

EXAMPLES = """[bold]Examples[/]

  daglab stats                                everything daglab has recorded

  daglab stats --since 7d                     the last week (also 24h, 30m, 2w)

  daglab stats --since 2026-11-01 --json      machine-readable, from a date on

  daglab stats --html stats.html              a self-contained report with charts

  daglab stats --notebook stats_dashboard.py  a marimo dashboard: marimo edit it"""

TOP = 10


def register(app: typer.Typer) -> None:
    app.command("stats", epilog=EXAMPLES)(stats)


def stats(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only what happened since DATE: 2026-11-01, 2026-11-01T09:30, or 7d, 24h, 30m.",
            metavar="DATE",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML report with charts to PATH.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    notebook: Annotated[
        Path | None,
        typer.Option(
            "--notebook",
            help="Also write a marimo dashboard notebook to PATH (it reads the stats live).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite --html/--notebook files daglab did not write (else exit 8)."
        ),
    ] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
) -> None:
    """Usage statistics: runs daglab launched, success rate, durations, most-used jobs and
    assets, exports, in-process against UI run times, and the changes made in Dagster.

    Runs come from Dagster (daglab tags every run it launches, with who launched it: cli,
    notebook, sweep, mcp); in-process runs, exports, sweeps and the audit trail (each change
    daglab made in Dagster and each sandbox refusal, by origin and operation) from the
    project's [cyan].daglab/history.jsonl[/]. With the webserver down, the local part is still
    shown.
    """
    from daglab import _stats
    from daglab._cli._output import console, print_json, safe
    from daglab._logging import register_secret

    parsed = _stats.parse_since(since) if since is not None else None
    state: CliState = ctx.ensure_object(CliState)
    register_secret(auth_token)
    loaded = state.load(overrides=endpoint_overrides(dagster_port, url))
    _stats.check_destinations(loaded.project.root, [html, notebook], force=force)
    result = _stats.collect(loaded, since=parsed, token=auth_token)
    written: dict[str, str] = {}
    if html is not None:
        root = loaded.project.root
        _stats.write_report(root, html, _stats.render_html(result), force=force)
        written["html"] = str(html)
    if notebook is not None:
        # A URL with credentials is not written into the notebook: it then reads the endpoint
        # from daglab.yaml / DAGLAB_DAGSTER__URL, as a notebook given no --url does.
        shown = str(url) if url is not None and not url.has_credentials else None
        content = _stats.render_notebook(since=since, url=shown, port=dagster_port)
        _stats.write_report(loaded.project.root, notebook, content, kind="dashboard", force=force)
        written["notebook"] = str(notebook)
    if json_output:
        print_json({**result.to_dict(), "written": written})
        return
    out = console()
    _render(out, result)
    if "html" in written:
        out.print(f"[green]Wrote[/] {safe(written['html'])}")
    if "notebook" in written:
        out.print(
            f"[green]Wrote[/] {safe(written['notebook'])}; open it with"
            f" [cyan]marimo edit {safe(written['notebook'])}[/]"
        )


def _table(title: str, text: list[str], numbers: list[str]) -> Any:
    """A table whose ``text`` columns come first (the first never wraps), then ``numbers``."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold")
    for index, column in enumerate(text):
        table.add_column(column, no_wrap=index == 0, overflow="fold")
    for column in numbers:
        table.add_column(column, justify="right")
    return table


def _render(out: Console, result: Stats) -> None:
    """Rich tables for people: the headline first, then each part that has something."""
    from daglab._cli._output import safe
    from daglab._stats import (
        NO_HISTORY,
        format_bytes,
        format_percent,
        format_seconds,
        job_label,
        when,
    )

    report = result.report
    out.print(f"[bold]{safe(report['headline'])}[/]")
    dagster = report["dagster"]
    if not dagster["available"]:
        out.print(f"[yellow]Dagster part unavailable:[/] {safe(dagster['error'])}")
        out.print(f"  [dim]{safe(dagster['remediation'])}[/]")
    elif dagster["truncated"]:
        out.print(
            f"[yellow]Only the newest {dagster['max_runs']:,} runs were read;"
            " --since narrows the period.[/]"
        )

    runs = report["runs"]
    if runs and runs["total"]:
        table = _table(
            "Runs by launcher",
            ["launcher"],
            ["runs", "succeeded", "failed", "in flight", "success"],
        )
        for name, row in runs["by_launcher"].items():
            table.add_row(
                safe(name),
                str(row["runs"]),
                str(row["succeeded"]),
                str(row["failed"]),
                str(row["in_flight"]),
                format_percent(row["success_rate"]),
            )
        out.print(table)
        duration = runs["duration"]
        out.print(
            f"Duration: mean {format_seconds(duration['mean_s'])}, median"
            f" {format_seconds(duration['median_s'])}, min {format_seconds(duration['min_s'])},"
            f" max {format_seconds(duration['max_s'])}"
        )
    if report["jobs"]:
        table = _table("Most-used jobs", ["job"], ["runs", "success", "mean", "in-process"])
        for job in report["jobs"][:TOP]:
            table.add_row(
                safe(job_label(job["name"])),
                str(job["runs"]),
                format_percent(job["success_rate"]),
                format_seconds(job["mean_duration_s"]),
                str(job["inprocess_runs"]),
            )
        out.print(table)
    if report["assets"]:
        table = _table("Most-used assets", ["asset"], ["runs", "materializations", "in-process"])
        for asset in report["assets"][:TOP]:
            table.add_row(
                safe(asset["key"]),
                str(asset["runs"]),
                str(asset["materializations"]),
                str(asset["inprocess_runs"]),
            )
        out.print(table)
    inprocess = report["inprocess"]
    if inprocess["total"]:
        out.print(
            f"In-process runs: {inprocess['total']}, {inprocess['succeeded']} succeeded"
            f" ({format_percent(inprocess['success_rate'])}), mean"
            f" {format_seconds(inprocess['duration']['mean_s'])} (not recorded in Dagster)"
        )
    paired = [row for row in report["comparison"] if row["ratio"] is not None]
    if paired:
        table = _table(
            "In-process vs UI (mean of successful runs)",
            ["target"],
            ["in-process", "UI", "UI incl. queue", "UI / in-process"],
        )
        for row in paired[:TOP]:
            table.add_row(
                safe(row["target"]),
                f"{format_seconds(row['inprocess_mean_s'])} ({row['inprocess_runs']})",
                f"{format_seconds(row['ui_mean_s'])} ({row['ui_runs']})",
                format_seconds(row["ui_wall_mean_s"]),
                f"{row['ratio']:.2f}×",
            )
        out.print(table)
    exports = report["exports"]
    if exports["total"]:
        out.print(f"Exports: {exports['total']}, {format_bytes(exports['total_bytes'])} in all")
        table = _table("Latest exports", ["when", "asset", "file"], ["size"])
        for entry in exports["last"][:5]:
            table.add_row(
                when(entry["at"]),
                safe(entry["asset"] or "-"),
                safe(entry["path"] or "-"),
                format_bytes(entry["size"]),
            )
        out.print(table)
    sweeps = report["sweeps"]
    if sweeps["total"]:
        table = _table("Latest sweeps", ["when", "sweep", "target"], ["runs", "ok", "took"])
        for entry in sweeps["last"][:5]:
            table.add_row(
                when(entry["at"]),
                safe(entry["sweep_id"]),
                safe(entry["target"] or "-"),
                safe(entry["count"]),
                safe(entry["successes"]),
                format_seconds(entry["duration_s"]),
            )
        out.print(table)
    audit = report["audit"]
    if audit["total"]:
        table = _table(
            "Changes in Dagster by origin (audit trail)",
            ["origin", "operation"],
            ["changes", "refusals", "errors"],
        )
        for origin, row in audit["by_origin"].items():
            for operation, counts in row["by_operation"].items():
                table.add_row(
                    safe(origin),
                    safe(operation),
                    str(counts["changes"]),
                    str(counts["refusals"]),
                    str(counts["errors"]),
                )
        out.print(table)
    history = report["history"]
    if not history["available"]:
        out.print(f"[dim]No local history: {safe(NO_HISTORY)}[/]")
    elif not history["events"]:
        out.print(f"[dim]Nothing in the local history {safe(history['path'])} for this period.[/]")
