"""The one way daglab changes a workspace file: backed up, atomic, checked, undone on failure.

Before a write the current bytes are copied to ``<workspace root>/.daglab/backups/``; the new
text replaces the file atomically; the result is read again and validated. When it no longer
parses, or shows an error the old file did not have, the old bytes are put back exactly and
the edit fails with exit 7.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from daglab._errors import DaglabError, ValidationError
from daglab._fs import atomic_write, file_lock
from daglab._workspace.model import Change, Workspace, parse

BACKUPS = Path(".daglab") / "backups"
RESTART_NOTE = "A running `dagster dev` (or `dg dev`) must be restarted to see this change."


def backups_dir(ws: Workspace) -> Path:
    return ws.root / BACKUPS


def diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


#: Problems an edit may leave behind: removing an entry leaves its folder unregistered.
_ALLOWED_AFTER_EDIT = {"unregistered-project"}


def _problem_keys(file: Path) -> set[tuple[str, str | None, str]]:
    from daglab._workspace.validate import validate

    problems = validate(parse(file).workspace, schema=True)
    return {
        (p.code, p.location, p.message)
        for p in problems
        if p.severity == "error" and p.code not in _ALLOWED_AFTER_EDIT
    }


def backup(ws: Workspace, data: bytes) -> Path:
    folder = backups_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = folder / f"{stamp}-{ws.file.name}"
    atomic_write(target, data)
    return target


def apply(
    ws: Workspace,
    new_text: str,
    *,
    message: str,
    dry_run: bool = False,
    check: Callable[[Path], set[tuple[str, str | None, str]]] = _problem_keys,
) -> Change:
    """Replace ``ws.file`` with ``new_text`` under the rules of the module docstring."""
    old_bytes = ws.file.read_bytes()
    old_text = old_bytes.decode("utf-8")
    if new_text == old_text:
        return Change(False, "nothing to change", file=ws.file)
    change_diff = diff(old_text, new_text, ws.file.name)
    if dry_run:
        return Change(True, f"would {message}", file=ws.file, diff=change_diff)
    before = check(ws.file)
    saved = backup(ws, old_bytes)
    atomic_write(ws.file, new_text.encode("utf-8"))
    try:
        introduced = sorted(check(ws.file) - before, key=str)
    except DaglabError as exc:
        _rollback(ws.file, old_bytes)
        raise ValidationError(
            f"{ws.file.name} would no longer load ({exc.message}); the original is restored",
            remediation=f"Fix {ws.file} by hand (a copy of it is at {saved}), then run again.",
            file=str(ws.file),
        ) from exc
    if introduced:
        _rollback(ws.file, old_bytes)
        what = "; ".join(message for _code, _location, message in introduced)
        raise ValidationError(
            f"the edit of {ws.file.name} fails validation ({what}); the original is restored",
            remediation="Run `daglab workspace validate` and fix what it reports, then again.",
            file=str(ws.file),
        )
    return Change(True, message, file=ws.file, diff=change_diff, backup=saved)


def _rollback(file: Path, data: bytes) -> None:
    atomic_write(file, data)


def list_backups(ws: Workspace) -> list[Path]:
    """This workspace file's backups, oldest first."""
    folder = backups_dir(ws)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(ws.file.name))


def restore(ws: Workspace, name: str, *, dry_run: bool = False) -> Change:
    """Put backup ``name`` (a file name from ``list_backups``) back; the current file is backed
    up first, so a restore can itself be undone."""
    known = {p.name: p for p in list_backups(ws)}
    chosen = known.get(Path(name).name)
    if chosen is None:
        from daglab._errors import did_you_mean

        raise ValidationError(
            f"no backup named {name!r} for {ws.file.name}{did_you_mean(name, known)}",
            remediation="Run `daglab workspace restore` without an argument to list them.",
        )
    data = chosen.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"backup {chosen} is not UTF-8 text", remediation="Choose another backup."
        ) from exc
    message = f"restore {ws.file.name} from {chosen.name}"
    with file_lock(ws.file):
        return apply(ws, text, message=message, dry_run=dry_run, check=_parses_only)


def _parses_only(file: Path) -> set[tuple[str, str | None, str]]:
    parse(file)
    return set()
