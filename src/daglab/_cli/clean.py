"""``daglab clean``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from daglab._cli._context import CliState

EXAMPLES = """[bold]Examples[/]

  daglab clean --dry-run            list what would go, delete nothing

  daglab clean --older-than 7 --yes daglab's exports and marimo sessions older than a week

  daglab clean --notebooks          also generated notebooks you have not changed"""


def register(app: typer.Typer) -> None:
    app.command("clean", epilog=EXAMPLES)(clean)


def clean(
    ctx: typer.Context,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            help="Only files older than DAYS (default for exports: export.retention_days).",
            metavar="DAYS",
            show_default=False,
        ),
    ] = None,
    notebooks: Annotated[
        bool,
        typer.Option("--notebooks", help="Also remove generated notebooks that are unmodified."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove old exports daglab wrote, caches and, with --notebooks, generated notebooks.

    Exports daglab's manifest records, unchanged since, and marimo's session snapshots
    ([cyan]__marimo__/session/*.json[/]), older than export.retention_days (or --older-than);
    [cyan].daglab/cache/[/] and temporary files a killed daglab left in [cyan].daglab/[/]. An
    HTML file daglab did not write is never an export. Never enters virtualenvs, .git or
    node_modules, and never touches anything outside the project.
    """
    from daglab._clean import execute, plan_clean
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import EnvironmentMissingError, UsageError

    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load()
    project = loaded.project
    if not project.is_dagster_project and not project.daglab_dir.is_dir():
        raise EnvironmentMissingError(
            f"No daglab project found at or above {project.root}",
            remediation="cd into a project set up with `daglab init`.",
        )
    plan = plan_clean(
        root=project.root,
        notebooks_dir=loaded.notebooks_dir,
        retention_days=loaded.config.export.retention_days,
        older_than=older_than,
        notebooks=notebooks,
    )
    out = console()
    if not json_output:
        for item in plan.items:
            out.print(f"  {item.kind:<15} {safe(plan.relative(item.path))}  ({item.size:,} bytes)")
        for path, reason in plan.kept:
            out.print(f"  [dim]keep            {safe(plan.relative(path))}  ({safe(reason)})[/]")
    if not plan.items or dry_run:
        if json_output:
            print_json(plan.to_dict(deleted=False))
        elif not plan.items:
            out.print("Nothing to clean.")
        else:
            out.print(f"[bold]Dry run:[/] {len(plan.items)} item(s), {plan.total_bytes:,} bytes.")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"clean would delete {len(plan.items)} item(s) and needs confirmation",
                remediation="Pass --yes to confirm, or --dry-run to only list them.",
            )
        typer.confirm(f"Delete {len(plan.items)} item(s)?", abort=True)
    deleted = execute(plan)
    if json_output:
        print_json(plan.to_dict(deleted=True) | {"deleted_count": len(deleted)})
    else:
        out.print(f"[green]Deleted {len(deleted)} item(s)[/], {plan.total_bytes:,} bytes.")
