"""``daglab doctor``."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab._cli._context import CliState

EXAMPLES = """[bold]Examples[/]

  daglab doctor                 every check, as a table

  daglab doctor --fix           also create missing folders and daglab.yaml

  daglab doctor --check-deps    check daglab's whole dependency tree for conflicts

  daglab doctor --json          for scripts; exits non-zero when a critical check fails"""


def register(app: typer.Typer) -> None:
    app.command("doctor", epilog=EXAMPLES)(doctor)


def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what is safe: missing folders, daglab.yaml.")
    ] = False,
    check_deps: Annotated[
        bool,
        typer.Option(
            "--check-deps",
            help="Check every package in daglab's dependency tree, with upgrade or"
            " downgrade suggestions.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the webserver.", min=0.1)
    ] = 3.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Diagnose the environment and say what to do about each problem.

    Checks Python, daglab's packages, Dagster and marimo, DAGSTER_HOME and its instance, the
    ports, the webserver, its GraphQL endpoint and every code location it serves (a location
    that failed to load is a critical failure showing Dagster's error), daglab.yaml and telemetry.
    """
    from pathlib import Path

    from daglab._doctor import DoctorOptions, run_doctor
    from daglab._errors import ConfigError
    from daglab._logging import setup_logging

    state: CliState = ctx.ensure_object(CliState)
    try:
        state.load()  # for the log file; a bad config is one of the checks below
    except ConfigError:
        setup_logging(console_level=state.log_level or "WARNING")
    report = run_doctor(
        DoctorOptions(start=Path.cwd(), fix=fix, check_deps=check_deps, timeout=timeout)
    )
    if json_output:
        from daglab._cli._output import print_json

        print_json(report.to_dict())
    else:
        _render(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _render(report: object) -> None:
    from daglab._cli._output import render_checks
    from daglab._doctor import DoctorReport

    assert isinstance(report, DoctorReport)  # noqa: S101  type narrowing, an invariant
    render_checks(report, title="daglab doctor")
