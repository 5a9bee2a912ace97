"""``daglab mcp``: serve daglab's tools to an agent host over the Model Context Protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daglab._cli._context import CliState

EXAMPLES = """[bold]Examples[/]

  daglab mcp                                  read-only tools over stdio (what a host spawns)

  daglab mcp --allow launchRun                also launch runs (validated first, tagged mcp)

  daglab mcp --transport http --port 8765     streamable HTTP on 127.0.0.1:8765/mcp

  daglab mcp --list-tools --json              the tools, their inputs and which are read-only

An agent host's entry (the token stays in the variable dagster.auth.token_env names):

  {"command": "daglab", "args": ["mcp", "--project", "/path/to/project"],
   "env": {"DAGSTER_GRAPHQL_TOKEN": "..."}}"""


def register(app: typer.Typer) -> None:
    app.command("mcp", epilog=EXAMPLES)(mcp)


def mcp(
    ctx: typer.Context,
    transport: Annotated[
        str,
        typer.Option("--transport", help="stdio (a host spawns the server) or http (loopback)."),
    ] = "stdio",
    host: Annotated[
        str, typer.Option("--host", help="Loopback address for --transport http.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port for --transport http.", min=1, max=65535)
    ] = 8765,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="An operation to allow besides reading: launchRun, terminateRun,"
            " scaffoldNotebook, exportNotebook (repeatable; adds to mcp.allow).",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project", help="The project (default: the working directory).", show_default=False
        ),
    ] = None,
    list_tools: Annotated[
        bool, typer.Option("--list-tools", help="Print the tools and exit; serve nothing.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="With --list-tools: JSON.")] = False,
) -> None:
    """Serve Dagster, through daglab's client, to an AI agent host (MCP).

    Read-only by default: discover, validate and default run configs, runs and their logs,
    waits, partitions and configuration. Tools that change something are listed and callable
    only when their operation is allowed here or in mcp.allow (security.allowed_operations does
    not apply). Results and logs are redacted; stdout carries nothing but the protocol.
    """
    from daglab._errors import UsageError
    from daglab._mcp._server import ServeOptions, allowed_operations, check_host

    if transport not in ("stdio", "http"):
        raise UsageError(
            f"--transport {transport!r} is not stdio or http",
            remediation="Use --transport stdio (default) or --transport http.",
        )
    if transport == "http":
        check_host(host)
    state: CliState = ctx.ensure_object(CliState)
    start = project.resolve() if project is not None else None
    if start is not None and not start.is_dir():
        raise UsageError(
            f"--project {start} is not a folder",
            remediation="Pass the project's folder (where pyproject.toml or daglab.yaml is).",
        )
    loaded = state.load(start=start)
    allowed = allowed_operations(loaded, allow or [])
    if list_tools:
        _print_tools(allowed, json_output)
        return
    _require_sdk()
    from daglab._mcp._server import serve
    from daglab._mcp._tools import Services

    services = Services(loaded, allowed)
    try:
        serve(services, ServeOptions(transport, host, port, tuple(sorted(allowed))))
    finally:
        services.close()


def _print_tools(allowed: frozenset[str], json_output: bool) -> None:
    from daglab._cli._output import console, print_json, safe
    from daglab._mcp import tools_for
    from daglab._mcp._server import tool_inputs

    _require_sdk()
    specs = tools_for(allowed)
    if json_output:
        tools = [{**spec.to_dict(), "inputs": tool_inputs(spec.name)} for spec in specs]
        print_json({"allowed": sorted(allowed), "tools": tools})
        return
    from rich.table import Table

    table = Table(title="daglab mcp tools", title_justify="left")
    for column in ("tool", "read-only", "needs", "inputs"):
        table.add_column(column)
    for spec in specs:
        table.add_row(
            safe(spec.name),
            "yes" if spec.read_only else "",
            safe(spec.operation or ""),
            safe(", ".join(tool_inputs(spec.name))),
        )
    out = console()
    out.print(table)
    if not allowed:
        out.print("read-only: allow changes with --allow launchRun (and others) or mcp.allow")


def _require_sdk() -> None:
    """The SDK is a dependency; a broken or missing install is exit 3 with the fix."""
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as exc:
        from daglab._errors import EnvironmentMissingError

        raise EnvironmentMissingError(
            f"daglab mcp needs the MCP SDK, which does not import here: {exc}",
            remediation="Reinstall daglab (`pip install --force-reinstall daglab`) or install the"
            " SDK: pip install 'mcp>=2.3,<3'.",
        ) from exc
