"""The single place where exceptions become messages and exit codes."""

from __future__ import annotations

import json
import sys
import traceback

from daglab._cli._context import CliState
from daglab._errors import DaglabError


def report(exc: BaseException, state: CliState) -> int:
    """Print ``exc`` for a person (or as JSON with ``--json``) and return its exit code."""
    from daglab._cli._output import console, safe
    from daglab._logging import escape_control, get_logger, redact

    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("Interrupted.\n")
        return 130  # the shell's convention for Ctrl-C: it was an interrupt

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
        err = console(stderr=True, soft_wrap=True)
        if state.debug:
            sys.stderr.write(escape_control(redact("".join(traceback.format_exception(exc)))))
        err.print(f"[bold red]Error:[/] {safe(error.message)}", markup=True)
        err.print(f"[yellow]→[/] {safe(error.remediation)}", markup=True)
    return int(error.exit_code)
