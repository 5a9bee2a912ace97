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

  daglab discover --tags kind=python --tags owner=team:data

  daglab discover --filter checks --filter schedules --filter sensors"""


def register(app: typer.Typer) -> None:
    app.command("discover", epilog=EXAMPLES)(discover)


def discover(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="What to list: locations, repos, jobs, assets, checks, schedules or sensors"
            " (repeatable; default all).",
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
    """List code locations, repositories, jobs, assets, asset checks, schedules and sensors
    from the running webserver.

    One GraphQL round trip; nothing is imported from the project. A code location that failed
    to load is listed as FAILED with the first lines of Dagster's error (all of it in --json).
    """
    from daglab._discover import KINDS, DiscoverFilter, apply, parse_tags
    from daglab._errors import UsageError

    kinds = tuple(kind or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(
            f"--filter {unknown[0]!r} is not one of {', '.join(KINDS)}",
            remediation=f"Use --filter with one of: {', '.join(KINDS)}.",
        )
    state: CliState = ctx.ensure_object(CliState)
    selection = DiscoverFilter(kinds=kinds, pattern=pattern, tags=parse_tags(tags or []))
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        discovery = client.discover()
    found = apply(discovery, selection)
    if json_output:
        from daglab._cli._output import print_json

        print_json(found)
        return
    _render(found, several_locations=len(discovery.locations) > 1)


#: Lines of a failed location's error a table shows (``--json`` has all of it).
ERROR_LINES = 3


def _cell(field: str, value: object) -> str:
    if field == "error" and isinstance(value, str):
        lines = [line for line in value.strip().splitlines() if line.strip()]
        shown = "\n".join(lines[:ERROR_LINES])
        return shown + (" …" if len(lines) > ERROR_LINES else "")
    if field == "partitions":
        return str(value["summary"]) if isinstance(value, dict) else ""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else str(value)


def _render(found: dict[str, list[dict[str, object]]], *, several_locations: bool) -> None:
    from rich.table import Table

    from daglab._cli._output import console, safe

    out = console()
    where = [("location", "location")] if several_locations else []
    columns = {
        "locations": [
            ("location", "name"),
            ("status", "load_status"),
            ("repos", "repositories"),
            ("error", "error"),
        ],
        "repos": [("repository", "name"), ("location", "location")],
        "jobs": [("job", "name"), *where, ("tags", "tags"), ("description", "description")],
        "assets": [
            ("asset", "key"),
            *where,
            ("group", "group"),
            ("kinds", "kinds"),
            ("partitions", "partitions"),
            ("checks", "checks"),
            ("owners", "owners"),
            ("tags", "tags"),
        ],
        "checks": [
            ("check", "name"),
            ("asset", "asset"),
            *where,
            ("blocking", "blocking"),
            ("description", "description"),
        ],
        "schedules": [
            ("schedule", "name"),
            ("job", "job"),
            *where,
            ("cron", "cron"),
            ("timezone", "timezone"),
            ("state", "state"),
        ],
        "sensors": [
            ("sensor", "name"),
            ("type", "type"),
            *where,
            ("jobs", "jobs"),
            ("state", "state"),
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
            cells = [safe(_cell(field, row.get(field))) for _, field in columns[section]]
            table.add_row(*cells)
        out.print(table)
