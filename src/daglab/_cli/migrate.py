"""``daglab migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from daglab._migrate import MigrationPlan, NotebookReport

EXAMPLES = """[bold]Examples[/]

  daglab migrate --from-jupyter a.ipynb        writes a.py and a.migration.md

  daglab migrate --from-jupyter nb/ --to out/  every notebook, same layout

  daglab migrate --from-jupyter a.ipynb --preserve-outputs --dry-run

  daglab migrate --from-jupyter a.ipynb --force --json

--to may name a place outside the project, in a folder that exists; daglab never makes folders
there nor overwrites a file it did not write (exit 8 unless --force)."""


def register(app: typer.Typer) -> None:
    app.command("migrate", epilog=EXAMPLES)(migrate)


def migrate(
    from_jupyter: Annotated[
        Path,
        typer.Option(
            "--from-jupyter",
            help="A .ipynb notebook, or a folder: every .ipynb under it"
            " (.ipynb_checkpoints and hidden folders skipped).",
            metavar="PATH",
            show_default=False,
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Destination .py file, or folder (default: beside each source, as NAME.py)."
            " For a folder source, the layout under it is mirrored.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    preserve_outputs: Annotated[
        bool,
        typer.Option(
            "--preserve-outputs",
            help="Keep text outputs as comments in their cells (images are only noted).",
        ),
    ] = False,
    no_helpers: Annotated[
        bool,
        typer.Option("--no-helpers", help="Do not add the daglab.helpers import cell."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite destinations daglab did not write (else exit 8; its own unchanged"
            " output is replaced anyway).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Convert and report; write nothing.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Convert Jupyter notebooks to marimo notebooks, with a migration report.

    The conversion is marimo's own ([cyan]marimo convert[/]). daglab adds a cell
    importing its notebook helpers and writes [cyan]NAME.migration.md[/] beside
    each output: magics and shell escapes, names marimo renamed, names still
    defined twice. Every source is checked before anything is written.
    """
    from daglab._cli._output import print_json
    from daglab._migrate import execute, plan_migration

    plan = plan_migration(
        from_jupyter,
        to,
        preserve_outputs=preserve_outputs,
        helpers=not no_helpers,
        force=force,
        dry_run=dry_run,
    )
    execute(plan)
    if json_output:
        print_json(plan.to_dict())
        return
    _print_plan(plan)


def _print_plan(plan: MigrationPlan) -> None:
    from rich.table import Table

    from daglab._cli._output import ACTION_STYLE, console, safe

    out = console()
    table = Table(title="daglab migrate", title_justify="left")
    for header in ("notebook", "output"):
        table.add_column(header, overflow="fold")
    for header in ("code", "markdown", "magics", "renamed"):
        table.add_column(header, justify="right")
    table.add_column("result")
    for report in plan.reports:
        table.add_row(
            safe(_shown(report.source)),
            safe(_shown(report.output)),
            str(report.code_cells),
            str(report.markdown_cells),
            str(len(report.magics)),
            str(len(report.renamed)),
            ACTION_STYLE.get(report.action, safe(report.action)),
        )
    out.print(table)
    for report in plan.reports:
        _print_details(out, report)
    count = len(plan.reports)
    if plan.dry_run:
        out.print(f"[bold]Dry run:[/] {count} notebook(s) converted; nothing written.")
    else:
        out.print(
            f"[green]Migrated {count} notebook(s).[/] Reports: [cyan]*.migration.md[/]"
            " beside each output; check with [cyan]marimo check[/]."
        )


def _print_details(out: Console, report: NotebookReport) -> None:
    from daglab._cli._output import safe

    lines: list[str] = []
    for magic in report.magics:
        lines.append(
            f"  cell {magic.cell}, line {magic.line}: {magic.kind} [dim]{safe(magic.text)}[/]"
        )
    for rename in report.renamed:
        lines.append(f"  cell {rename.cell}: renamed {safe(rename.old)} → {safe(rename.new)}")
    for cell, name in report.removed_imports:
        lines.append(f"  cell {cell}: duplicate import of {safe(name)} removed")
    if report.helpers_skipped:
        lines.append(
            "  helpers skipped (defined by the notebook): "
            + safe(", ".join(report.helpers_skipped))
        )
    if report.dropped:
        lines.append("  dropped (only line magics): cells " + ", ".join(map(str, report.dropped)))
    for name, cells in report.conflicts.items():
        lines.append(
            f"  [yellow]! {safe(name)} is defined in cells {', '.join(map(str, cells))};"
            " marimo will not run it until one is renamed[/]"
        )
    if report.unparsable:
        lines.append(
            "  [yellow]! marimo cannot parse cells "
            + ", ".join(map(str, report.unparsable))
            + "; fix them before running[/]"
        )
    if lines:
        out.print(f"[bold]{safe(_shown(report.source))}[/]")
        for line in lines:
            out.print(line)


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
