"""Hygiene: a literal password in a URL in any configuration file of the workspace (shown
redacted, never the secret), and a schedule without a timezone (found in the source's syntax
tree, nothing imported)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from daglab._audit.context import AuditContext, fail, ok, read_text
from daglab._report import Check

#: ``scheme://user:password@host``; the password is group 2 (up to the authority's last ``@``:
#: an unescaped ``@`` in a password is common, and the host follows the last one).
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/?#@:'\"]*:)([^\s/?#'\"]+)@", re.I)
#: A password part that names a value instead of holding one: ``${PG_PASSWORD}``, ``$PW``,
#: ``{password}`` (a format string), ``<password>``, ``%(pw)s``, ``***``, and the words an
#: example URL in a comment or a README-like docstring uses (``user:password@host``).
_PLACEHOLDER = re.compile(
    r"^(\$|\{|<|%\(|\*+$|\.\.\.$|x+$|(password|passwd|pass|pwd|pw|secret)$)", re.I
)
#: Calls that make a schedule, and the decorator.
_SCHEDULE_CALLS = frozenset({"ScheduleDefinition", "build_schedule_from_partitioned_job"})
_SCHEDULE_DECORATORS = frozenset({"schedule"})


def check_hygiene(ctx: AuditContext) -> list[Check]:
    return [_check_passwords(ctx), _check_schedule_timezones(ctx)]


def find_passwords(text: str) -> list[tuple[int, str]]:
    """``(line, URL up to its host, redacted)`` for each URL with a literal password."""
    from daglab._logging import redact, register_secret

    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if "://" not in line:
            continue
        for match in _URL_PASSWORD.finditer(line):
            password = match.group(2)
            if _PLACEHOLDER.match(password):
                continue
            register_secret(password)  # whatever prints it from now on masks it
            found.append((number, redact(match.group(0))))
    return found


def _check_passwords(ctx: AuditContext) -> Check:
    hits: list[tuple[Path, int, str]] = []
    for path in ctx.config_files():
        text = read_text(path)
        if text is None or "://" not in text:
            continue
        hits += [(path, line, shown) for line, shown in find_passwords(text)]
    if not hits:
        return ok("hygiene:passwords", "no literal password in a URL in the workspace's files")
    lines = [f"{ctx.rel(path)}:{line} {shown}" for path, line, shown in hits]
    return fail(
        "hygiene:passwords",
        f"{len(hits)} URL(s) with a literal password: " + "; ".join(lines),
        "Move the URL out of the file: read it from an environment variable"
        ' (dg.EnvVar("…_URL") in a resource, ${…_URL} in YAML), set the variable in the'
        " deployment's secrets, and rotate the password (it is in the file's history).",
        found=lines,
    )


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _has_timezone(call: ast.Call) -> bool:
    """``execution_timezone=`` given, or ``**kwargs`` that may carry it."""
    return any(k.arg in (None, "execution_timezone") for k in call.keywords)


def schedules_without_timezone(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` of each schedule the source defines without ``execution_timezone``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node) in _SCHEDULE_CALLS:
            if not _has_timezone(node):
                found.append((node.lineno, f"{_name(node)}(…)"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if _name(decorator) not in _SCHEDULE_DECORATORS:
                    continue
                if not isinstance(decorator, ast.Call) or not _has_timezone(decorator):
                    found.append((decorator.lineno, f"@schedule {node.name}"))
    return sorted(found)


def _check_schedule_timezones(ctx: AuditContext) -> Check:
    hits = []
    scanned = 0
    for module in ctx.selected:
        folder = module.package_dir()
        if folder is None:
            continue
        for path in ctx.under(folder):
            if path.suffix != ".py":
                continue
            text = read_text(path)
            if text is None or "chedule" not in text:
                continue
            scanned += 1
            hits += [(path, line, what) for line, what in schedules_without_timezone(text)]
    if not hits:
        return ok(
            "hygiene:schedule_timezone",
            f"every schedule names its timezone ({scanned} file(s) with schedules read)",
        )
    lines = [f"{ctx.rel(path)}:{line} {what}" for path, line, what in hits]
    return fail(
        "hygiene:schedule_timezone",
        f"{len(hits)} schedule(s) without a timezone run on UTC, whatever the cron means: "
        + "; ".join(lines),
        'Pass execution_timezone="Area/City" (an IANA name such as "Europe/Berlin") to each'
        " schedule.",
        found=lines,
    )
