"""Formatters: Rich for people, JSON for programs. Commands hand results here.

Every console daglab prints through comes from :func:`console`: whatever a command prints —
a file name, a job name, a server's message — reaches the terminal with its control characters
escaped (``\\x1b[31m``, not red text), so text from outside cannot drive the terminal. JSON
output needs no such step: ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from daglab._report import CheckReport


def console(*, stderr: bool = False, soft_wrap: bool = False) -> Console:
    """A Rich console that escapes control characters in everything it prints."""
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=soft_wrap)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.segment import Segment
    from rich.text import Text

    from daglab._logging import escape_control

    class SafeConsole(Console):
        """Escapes control characters in strings (before markup, so widths stay right) and, as a
        last line, in the text of every segment that is not one of Rich's own control codes."""

        def render_str(self, text: str, **kwargs: Any) -> Text:
            return super().render_str(escape_control(text), **kwargs)

        def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Any:
            for segment in super().render(renderable, options):
                if segment.control or not segment.text:
                    yield segment
                else:
                    text = escape_control(segment.text)
                    yield segment if text is segment.text else Segment(text, segment.style)

    return SafeConsole


def safe(value: object) -> str:
    """Any text shown inside Rich markup: secrets masked, brackets taken literally."""
    from rich.markup import escape

    from daglab._logging import redact

    return escape(redact(str(value)))


def print_json(data: Any) -> None:
    """JSON on stdout: indented for a person at a terminal, compact (and fast) for a pipe."""
    from daglab._logging import redact

    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(redact(json.dumps(data, indent=indent, default=str)) + "\n")


STATUS_STYLE = {
    "ok": "[green]✓ ok[/]",
    "warn": "[yellow]! warn[/]",
    "fail": "[red]✗ fail[/]",
    "skip": "[dim]- skip[/]",
    "fixed": "[cyan]✓ fixed[/]",
}

ACTION_STYLE = {
    "created": "[green]created[/]",
    "overwritten": "[yellow]overwritten[/]",
    "updated": "[cyan]updated[/]",
    "unchanged": "[dim]unchanged[/]",
    "skipped": "[yellow]skipped (exists; --force overwrites)[/]",
}


def render_checks(report: CheckReport, *, title: str) -> None:
    """A report of checks as a table: each check's status and summary, and under a warning or a
    failure the fix; then the critical failures and the exit code (``doctor``, ``audit``)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("check", style="bold", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("details")
    for check in report.checks:
        details = safe(check.summary)
        if check.remediation and check.status in ("warn", "fail"):
            details += f"\n[yellow]→ {safe(check.remediation)}[/]"
        table.add_row(safe(check.name), STATUS_STYLE[check.status], details)
    out = console()
    out.print(table)
    if report.failed:
        names = ", ".join(c.name for c in report.failed)
        out.print(f"[bold red]Critical problems:[/] {safe(names)} (exit code {report.exit_code})")
    else:
        out.print("[green]No critical problems.[/]")
