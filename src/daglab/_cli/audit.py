"""``daglab audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daglab._cli._context import CliState

EXAMPLES = """[bold]Examples[/]

  daglab audit                     every check of the workspace around this folder

  daglab audit alpha beta          only these code locations (workspace-wide checks too)

  daglab audit --load              also load each location in its own process

  daglab audit --workspace ../ws --json     for CI; exits 7 when a check fails"""


def register(app: typer.Typer) -> None:
    app.command("audit", epilog=EXAMPLES)(audit)


def audit(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Code locations to audit (default: all).", metavar="NAME", show_default=False
        ),
    ] = None,
    load: Annotated[
        bool, typer.Option("--load", help="Also load each location in its own process.")
    ] = False,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            help="The workspace folder or file (default: the nearest dg.toml or workspace.yaml"
            " at or above the current folder).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check that a workspace of code locations holds together, with a fix for each problem.

    Structure (each module's package, definitions and tests); registry (paths, unregistered
    projects, location names unique and consistent across dg.toml, workspace.yaml,
    dagster_cloud.yaml and Helm values); version drift (Dagster pins, requires-python against
    Dockerfile and CI); deploy files (a missing uv.lock, an empty container context); hygiene (a
    password in a URL, shown redacted; a schedule without a timezone); template currency. The
    static checks import neither Dagster nor marimo; --load adds loading. Exit 7 on any failure.
    """
    from daglab._audit import AuditOptions, run_audit
    from daglab._logging import setup_logging

    state: CliState = ctx.ensure_object(CliState)
    # a workspace, not one daglab project: no daglab.yaml to load (and no pydantic to import)
    setup_logging(console_level=state.log_level or "WARNING")
    report = run_audit(
        AuditOptions(start=Path.cwd(), workspace=workspace, names=tuple(names or ()), load=load)
    )
    if json_output:
        from daglab._cli._output import print_json

        print_json(report.to_dict())
    else:
        from daglab._cli._output import render_checks

        render_checks(report, title=f"daglab audit {report.workspace}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)
