"""The Typer application: global options, command registration and the one error handler."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from daglab._cli import (
    audit,
    clean,
    config,
    deploy,
    dev,
    discover,
    doctor,
    export,
    init,
    logs,
    mcp,
    migrate,
    module,
    partitions,
    scaffold,
    stats,
    wait,
    workspace,
)
from daglab._cli import run as run_command
from daglab._cli._context import LOG_LEVELS, CliState
from daglab._version import __version__

app = typer.Typer(
    name="daglab",
    help=(
        "Scaffold, run and round-trip [bold]marimo notebooks[/] paired with [bold]Dagster[/]"
        " assets and jobs."
    ),
    epilog=(
        "[bold]Examples[/]\n\n"
        "  daglab init                      add daglab to this Dagster project\n\n"
        "  daglab init --bootstrap my_proj  start a new Dagster project\n\n"
        "  daglab scaffold --asset orders   a notebook paired with an asset\n\n"
        "  daglab doctor                    check the environment\n\n"
        "Exit codes: 0 ok, 2 usage, 3 environment, 4 run failed, 5 network, 6 auth,"
        " 7 validation, 8 conflict."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"daglab {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help=f"Console log level ({', '.join(LOG_LEVELS)}); DEBUG also shows tracebacks."
            " Accepted anywhere on the line.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    state: CliState = ctx.ensure_object(CliState)
    if log_level is not None:
        state.set_log_level(log_level)


init.register(app)
scaffold.register(app)
config.register(app)
doctor.register(app)
discover.register(app)
run_command.register(app)
clean.register(app)
migrate.register(app)
dev.register(app)
stats.register(app)
export.register(app)
partitions.register(app)
wait.register(app)
logs.register(app)
mcp.register(app)
module.register(app)
workspace.register(app)
deploy.register(app)
audit.register(app)


def _reflow(text: str | None) -> str | None:
    """Docstring paragraphs as single lines, so help wraps to the terminal, not to the source."""
    if not text:
        return text
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _reflow_help(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        callback = command.callback
        command.help = _reflow(command.help or (callback.__doc__ if callback else None))
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)


def _hoist_global_options(args: list[str]) -> list[str]:
    """Let ``--log-level X`` appear after the command too, as users type it."""
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg == "--log-level" and index + 1 < len(args):
            hoisted += [arg, args[index + 1]]
            index += 2
            continue
        if arg.startswith("--log-level="):
            hoisted.append(arg)
        else:
            rest.append(arg)
        index += 1
    return hoisted + rest


def _command_name(args: list[str]) -> str | None:
    """The command or group ``args`` name (the first word that is not a global option)."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--log-level":
            index += 2
            continue
        if not arg.startswith("-"):
            return arg
        index += 1
    return None


def _narrowed(name: str | None) -> typer.Typer:
    """The app with only the command or group ``name``: Typer builds every command's parameters
    before parsing, about a third of a short command's time. Anything else (no name, an unknown
    one, which wants the full list for its suggestions) gets the whole app."""
    import copy

    from typer.main import get_command_name

    def named(info: typer.models.CommandInfo) -> str:
        callback = info.callback
        return info.name or (get_command_name(callback.__name__) if callback else "")

    commands = [c for c in app.registered_commands if named(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def run(args: list[str]) -> int:
    """Run the CLI for ``args``; return the exit code. Every error is reported here, once."""
    from daglab._cli import _helpcache
    from daglab._cli._errors import report

    args = _hoist_global_options(args)
    state = CliState(json_output="--json" in args)
    help_request = _helpcache.is_help_request(args)
    command = typer.main.get_command(app if help_request else _narrowed(_command_name(args)))

    def invoke() -> int:
        # Standalone mode lets Typer render its own usage errors (exit 2) and help; anything
        # else raised by a command reaches `report` below.
        try:
            command.main(args, prog_name="daglab", standalone_mode=True, obj=state)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0

    try:
        if help_request:
            return _helpcache.render_and_store(args, invoke)
        return invoke()
    except BaseException as exc:
        return report(exc, state)
    finally:
        sys.stdout.flush()
