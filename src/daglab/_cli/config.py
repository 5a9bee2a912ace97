"""``daglab config``: show the effective configuration and where each value came from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import (
    AuthToken,
    DagsterPort,
    DagsterUrl,
    Location,
    Repository,
    endpoint_overrides,
    make_client,
)

if TYPE_CHECKING:
    from daglab._config import LoadedConfig

config_app = typer.Typer(
    help="Inspect daglab's configuration.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SHOW_EXAMPLES = """[bold]Examples[/]

  daglab config show                       every key, its value and its source

  daglab config show --json | jq '.values["dagster.port"]'

  DAGLAB_DAGSTER__PORT=3001 daglab config show

  daglab config show configs.py           the run configs a sweep file generates"""

VALIDATE_EXAMPLES = """[bold]Examples[/]

  daglab config validate configs.py --job train      every config checked by Dagster

  daglab config validate configs.py --job train --json"""


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show", epilog=SHOW_EXAMPLES)
def show(
    ctx: typer.Context,
    sweep_file: Annotated[
        Path | None,
        typer.Argument(
            help="A sweep file (CONFIG or config_gen()): print the run configs it yields.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the effective configuration and, for every value, the source it came from.

    Sources, highest first: flags, [cyan]DAGLAB_*[/] variables, ./daglab.yaml, daglab.yaml in
    parent folders (to the git root), [cyan]\\[tool.daglab][/] in pyproject.toml,
    ~/.daglab/config.yaml, defaults. With a sweep file, print the run configs it generates.
    """
    from daglab._cli._output import console, print_json, safe
    from daglab._config import flatten

    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load()
    if sweep_file is not None:
        _show_sweep(sweep_file, loaded, json_output)
        return
    values = flatten(loaded.config)
    if json_output:
        print_json(
            {
                "project_root": str(loaded.project.root),
                "notebooks_dir": str(loaded.notebooks_dir),
                "graphql_url": loaded.config.dagster.graphql_url,
                "sources": [
                    {"kind": s.kind, "label": s.label, "path": str(s.path) if s.path else None}
                    for s in loaded.sources
                ],
                "values": values,
                "provenance": loaded.provenance,
            }
        )
        return
    from rich.table import Table

    table = Table(
        title=f"daglab configuration for {safe(loaded.project.root)}", title_justify="left"
    )
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value")
    table.add_column("source", style="dim")
    for key, value in values.items():
        source = loaded.provenance[key]
        shown = (
            "[dim](detected)[/] " + safe(loaded.notebooks_dir)
            if value is None
            else safe(repr(value))
        )
        if key != "notebooks_dir" and value is None:
            shown = "[dim]null[/]"
        style = "" if source == "default" else "bold"
        table.add_row(key, shown, f"[{style}]{safe(source)}[/]" if style else safe(source))
    out = console()
    out.print(table)
    out.print(f"GraphQL endpoint: {loaded.config.dagster.graphql_url}")


def _show_sweep(path: Path, loaded: LoadedConfig, json_output: bool) -> None:
    from daglab._cli._output import console, print_json, safe
    from daglab._cli._sweep import load_and_confirm

    # the same limits (performance.sweep_*) as `daglab run --sweep`; nothing runs, so no asking
    sweep = load_and_confirm(path, loaded.config.performance, max_configs=None, ask=False)
    items = [
        {"index": i.index, "label": i.label, "partition": i.partition, "config": i.config}
        for i in sweep.items
    ]
    if json_output:
        print_json({"file": str(path), "configs": items})
        return
    import yaml  # defer for import performance

    out = console()
    for item in items:
        where = f" [dim]partition {safe(item['partition'])}[/]" if item["partition"] else ""
        out.print(f"[bold]#{item['index']} {safe(item['label'])}[/]{where}")
        out.print(safe(yaml.safe_dump(item["config"], sort_keys=False).rstrip()))


@config_app.command("validate", epilog=VALIDATE_EXAMPLES)
def validate(
    ctx: typer.Context,
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file defining CONFIG or config_gen().")],
    job: Annotated[str, typer.Option("--job", help="Job whose config schema to check against.")],
    repo: Repository = None,
    location: Location = None,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Validate every run config a sweep file generates against the job's schema.

    Dagster does the checking; nothing is launched. Exits 7 when any config is invalid.
    """
    from daglab import _runs
    from daglab._cli._output import console, print_json
    from daglab._cli._sweep import load_and_confirm, validate_sweep

    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load(overrides=endpoint_overrides(dagster_port, url))
    sweep = load_and_confirm(sweep_file, loaded.config.performance, max_configs=None, ask=False)
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        target = _runs.resolve_target(
            client,
            job=job,
            repository=repo,
            location=location,
            asset_selection=None,
            asset_pattern=None,
        )
        validate_sweep(client, target, sweep)
    if json_output:
        print_json({"valid": True, "configs": len(sweep.items), "job": job})
    else:
        console().print(f"[green]✓[/] {len(sweep.items)} run config(s) valid for {job}")
