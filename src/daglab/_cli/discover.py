"""``daglab discover``."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, make_client

EXAMPLES = """[bold]Examples[/]

  daglab discover                              locations, repositories, jobs and assets

  daglab discover --filter assets --pattern 'orders/*'

  daglab discover --filter jobs --tags purpose=quick --json

  daglab discover --tags kind=python --tags owner=team:data"""


def register(app: typer.Typer) -> None:
    app.command("discover", epilog=EXAMPLES)(discover)


def discover(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="What to list: jobs, assets, repos or locations (repeatable; default all).",
            show_default=False,
        ),
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Option(
            "--pattern",
            help="Glob on names and asset key paths, e.g. 'orders/*' or '*summary'.",
            show_default=False,
        ),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tags",
            help="KEY=VALUE on asset tags, kinds (kind=python), owners (owner=...), groups"
            " (group=...) and job tags; repeatable, all must match.",
            show_default=False,
        ),
    ] = None,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List code locations, repositories, jobs and assets from the running webserver.

    One GraphQL round trip; nothing is imported from the project.
    """
    from daglab._discover import KINDS, DiscoverFilter, apply, parse_tags
    from daglab._errors import UsageError

    kinds = tuple(kind or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(
            f"--filter {unknown[0]!r} is not one of {', '.join(KINDS)}",
            remediation="Use --filter jobs, assets, repos or locations.",
        )
    state: CliState = ctx.ensure_object(CliState)
    selection = DiscoverFilter(kinds=kinds, pattern=pattern, tags=parse_tags(tags or []))
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        found = apply(client.discover(), selection)
    if json_output:
        from daglab._cli._output import print_json

        print_json(found)
        return
    _render(found)


def _render(found: dict[str, list[dict[str, object]]]) -> None:
    from rich.table import Table

    from daglab._cli._output import console, safe

    out = console()
    columns = {
        "locations": [("location", "name"), ("status", "load_status"), ("repos", "repositories")],
        "repos": [("repository", "name"), ("location", "location")],
        "jobs": [
            ("job", "name"),
            ("location", "location"),
            ("tags", "tags"),
            ("description", "description"),
        ],
        "assets": [
            ("asset", "key"),
            ("group", "group"),
            ("kinds", "kinds"),
            ("partitioned", "partitioned"),
            ("owners", "owners"),
            ("tags", "tags"),
        ],
    }
    if not any(found.values()):
        out.print("Nothing matched.")
    for section, rows in found.items():
        if not rows:
            continue
        table = Table(title=f"{section} ({len(rows)})", title_justify="left")
        for header, _ in columns[section]:
            table.add_column(header, overflow="fold")
        for row in rows:
            cells = []
            for _, field in columns[section]:
                value = row.get(field)
                if isinstance(value, dict):
                    value = ", ".join(f"{k}={v}" for k, v in value.items())
                elif isinstance(value, list | tuple):
                    value = ", ".join(map(str, value))
                cells.append("" if value is None else safe(value))
            table.add_row(*cells)
        out.print(table)
