"""``daglab scaffold``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, Location, Repository

EXAMPLES = """[bold]Examples[/]

  daglab scaffold --asset orders/daily_orders

  daglab scaffold --job configurable_job --validate-config --run-config run.yaml

  daglab scaffold --from-selection 'orders/*' --template ml --title "Orders, all of them"

  daglab scaffold --asset daily_summary --module src/my_pkg/defs/assets.py --git-commit

  daglab scaffold --job my_job --no-inprocess --template-vars owner=data-team --json

Notebooks go under the notebooks folder: [cyan]assets/<key path>_explore.py[/],
[cyan]jobs/<job>_explore.py[/] or [cyan]selections/<pattern>_explore.py[/]."""


def register(app: typer.Typer) -> None:
    app.command("scaffold", epilog=EXAMPLES)(scaffold)


def scaffold(
    ctx: typer.Context,
    job: Annotated[
        str | None,
        typer.Option("--job", help="Pair the notebook with this job.", show_default=False),
    ] = None,
    asset: Annotated[
        str | None,
        typer.Option(
            "--asset", help="Pair it with this asset (a/b, or a unique name).", show_default=False
        ),
    ] = None,
    from_selection: Annotated[
        str | None,
        typer.Option(
            "--from-selection",
            help="Pair it with the assets matching PATTERN, e.g. 'orders/*'.",
            metavar="PATTERN",
            show_default=False,
        ),
    ] = None,
    repo: Repository = None,
    location: Location = None,
    module: Annotated[
        str | None,
        typer.Option(
            "--module",
            help="Module that defines the target, for the in-process cell (a path or dotted).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    filename: Annotated[
        str | None,
        typer.Option(
            "--filename",
            help="Notebook file name, relative to the notebooks folder.",
            metavar="NAME.py",
            show_default=False,
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="default, minimal or ml (default: notebook_template in daglab.yaml).",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Notebook title.", show_default=False)
    ] = None,
    template_vars: Annotated[
        list[str] | None,
        typer.Option(
            "--template-vars",
            help="KEY=VALUE available in the notebook as TEMPLATE_VARS (repeatable).",
            show_default=False,
        ),
    ] = None,
    run_config: Annotated[
        Path | None,
        typer.Option(
            "--run-config",
            help="Run config YAML to start the notebook with (default: the job's defaults).",
            show_default=False,
        ),
    ] = None,
    no_inprocess: Annotated[
        bool, typer.Option("--no-inprocess", help="Leave out the in-process cells.")
    ] = False,
    no_attach: Annotated[
        bool, typer.Option("--no-attach", help="Leave out the export-and-attach cells.")
    ] = False,
    validate_config: Annotated[
        bool | None,
        typer.Option(
            "--validate-config/--no-validate-config",
            help="Validate the starting run config against the job's schema; invalid exits 7"
            " (default: defaults.validate_config, where invalid is only a note).",
            show_default=False,
        ),
    ] = None,
    git_commit: Annotated[
        bool | None,
        typer.Option(
            "--git-commit/--no-git-commit",
            help="Commit the new notebook, that file only (default: defaults.git_commit).",
            show_default=False,
        ),
    ] = None,
    seed_data: Annotated[
        bool | None,
        typer.Option(
            "--seed-data/--no-seed-data",
            help="Include a cell of sample data (default: defaults.seed_data).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing notebook.")] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Generate a marimo notebook paired with a Dagster job, asset or asset selection.

    The target is checked against the running webserver (or, when it is down, the project's
    code), and the in-process cell imports the real definition. Nothing is overwritten
    without --force.
    """
    from daglab._cli._endpoint import endpoint_overrides
    from daglab._cli._output import ACTION_STYLE, console, print_json, safe
    from daglab._errors import ValidationError
    from daglab._gitignore import ignore_warnings
    from daglab._logging import register_secret
    from daglab._notebooks.scaffold import ScaffoldRequest, scaffold_notebook
    from daglab._pairs import split_pairs
    from daglab._scaffold.webserver import for_scaffold

    state: CliState = ctx.ensure_object(CliState)
    register_secret(auth_token)
    loaded = state.load(overrides=endpoint_overrides(dagster_port, url))
    config_text = None
    if run_config is not None:
        try:
            config_text = run_config.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"{run_config}: cannot be read: {exc.strerror}") from exc
    request = ScaffoldRequest(
        job=job,
        asset=asset,
        selection=from_selection,
        repository=repo,
        location=location,
        module=module,
        filename=filename,
        template=template,
        title=title,
        template_vars=dict(
            split_pairs(template_vars or [], flag="--template-vars", example="owner=data-team")
        ),
        run_config=config_text,
        inprocess=not no_inprocess,
        attach=not no_attach,
        validate_config=validate_config,
        git_commit=git_commit,
        seed_data=seed_data,
        force=force,
    )
    out = console()
    if not json_output:
        out.print("[dim]Checking the target…[/]")
    # a webserver that accepts connections but does not answer must not hold scaffold for 30 s
    checked = for_scaffold(loaded, token=auth_token)
    result = scaffold_notebook(checked, request, token=auth_token)
    warnings = ignore_warnings(loaded.project.root, [result.path])
    if json_output:
        print_json({**result.to_dict(), "warnings": warnings})
        return
    project = loaded.project
    where = "the running webserver" if result.checked_against == "server" else "the project's code"
    out.print(
        f"{ACTION_STYLE.get(result.action, result.action)} {safe(project.relative(result.path))}"
        f" — paired with {result.target.kind} [bold]{safe(result.target.name)}[/]"
        f" (checked against {where})"
    )
    if result.import_line:
        out.print(f"  in-process cell: [cyan]{safe(result.import_line)}[/]")
    if result.config_valid:
        out.print("  run config: [green]valid[/]")
    if result.commit:
        out.print(f"  committed as {safe(result.commit[:12])}")
    for note in result.notes:
        out.print(f"  [yellow]note:[/] {safe(note)}")
    for warning in warnings:
        out.print(f"  [yellow]warning:[/] {safe(warning)}")
    out.print(
        f"\nNext: [bold]marimo edit {safe(project.relative(result.path))}[/]"
        " (or `daglab dev`, which starts Dagster beside it)"
    )
