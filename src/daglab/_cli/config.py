"""``daglab config``: show the effective configuration and where each value came from."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab._cli._context import CliState

config_app = typer.Typer(
    help="Inspect daglab's configuration.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SHOW_EXAMPLES = """[bold]Examples[/]

  daglab config show                       every key, its value and its source

  daglab config show --json | jq '.values["dagster.port"]'

  DAGLAB_DAGSTER__PORT=3001 daglab config show"""


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show", epilog=SHOW_EXAMPLES)
def show(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the effective configuration and, for every value, the source it came from.

    Sources, highest first: flags, [cyan]DAGLAB_*[/] variables, ./daglab.yaml, daglab.yaml in
    parent folders (to the git root), [cyan]\\[tool.daglab][/] in pyproject.toml,
    ~/.daglab/config.yaml, defaults.
    """
    from daglab._cli._output import console, print_json, safe
    from daglab._config import flatten

    state: CliState = ctx.ensure_object(CliState)
    loaded = state.load()
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
