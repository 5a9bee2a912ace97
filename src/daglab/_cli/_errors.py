"""The single place where exceptions become messages and exit codes."""

from __future__ import annotations

import json
import sys
import traceback

from daglab._cli._context import CliState
from daglab._errors import DaglabError, ExitCode


def report(exc: BaseException, state: CliState) -> int:
    """Print ``exc`` for a person (or as JSON with ``--json``) and return its exit code."""
    import click

    from daglab._logging import get_logger, redact

    if isinstance(exc, SystemExit):
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code or 0)
    if isinstance(exc, click.ClickException):
        _show_click_error(exc)
        return int(ExitCode.USAGE) if isinstance(exc, click.UsageError) else int(exc.exit_code)
    if isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort)):
        sys.stderr.write("Interrupted.\n")
        return int(ExitCode.UNEXPECTED)

    if isinstance(exc, DaglabError):
        error = exc
    else:
        error = DaglabError(
            f"Unexpected error: {type(exc).__name__}: {exc}",
            remediation="Run again with --log-level DEBUG and report the traceback.",
        )
    get_logger("cli").debug("command failed", exc_info=exc)
    if state.json_output:
        payload = json.loads(redact(json.dumps(error.to_dict(), default=str)))
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        from rich.console import Console

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        if state.debug:
            sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        console.print(f"[bold red]Error:[/] {redact(error.message)}", markup=True)
        console.print(f"[yellow]→[/] {redact(error.remediation)}", markup=True)
    return int(error.exit_code)


def _show_click_error(exc: BaseException) -> None:
    try:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)  # type: ignore[arg-type]
    except Exception:
        exc.show()  # type: ignore[attr-defined]
