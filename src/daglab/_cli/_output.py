"""Formatters: Rich for people, JSON for programs. Commands hand results here."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


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
