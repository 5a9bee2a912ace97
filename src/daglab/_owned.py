"""The one rule for files daglab writes on a user's behalf (exports, reports, migrated notebooks).

A destination is allowed inside the project, or outside it only where the user named it
(``--output``, ``--html``, ``--to``); outside the project daglab makes no folders, so the named
file's folder must exist. An existing file is overwritten only while the manifest says daglab
wrote it and nobody changed it since; anything else is refused (ConflictError, exit 8) unless
``force``. What was written is recorded in the manifest with its hash, which is what lets the
next export, retention and ``daglab clean`` tell daglab's files from the user's. The entry is
written before the file, keeping the hash it replaces, so a process killed between the two
still leaves a file daglab can prove it wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from daglab import _manifest
from daglab._errors import ConflictError, ValidationError
from daglab._fs import Written, atomic_write, check_name


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (its folder resolved, the entry itself not followed) is in ``root``."""
    return (path.parent.resolve() / path.name).is_relative_to(root.resolve())


def check_destination(
    root: Path,
    path: Path,
    *,
    explicit: bool,
    force: bool = False,
    what: str = "file",
    named: Path | None = None,
) -> Path:
    """Refuse ``path`` unless daglab may write there; call before any work, and again to write.

    ``explicit``: the user named this destination (an outside-the-project path is allowed).
    ``named``: the folder the user named when ``path`` is laid out below it (a migrated folder
    of notebooks); outside the project it must exist, and daglab makes the folders below it.
    Returns the path to write: its folder resolved (links and ``..`` followed), so a write
    never makes the folders a ``missing/..`` step names.
    """
    check_name(path, what=what)
    if path.name in ("", ".", ".."):
        raise ValidationError(
            f"{what} {str(path)!r} names a folder, not a file",
            remediation="Give a file name.",
            path=str(path),
        )
    path = path.parent.resolve() / path.name
    if not inside(root, path):
        if not explicit:
            raise ValidationError(
                f"{path} is outside the project at {root}",
                remediation="Give a path inside the project, or name the destination explicitly.",
                path=str(path),
            )
        anchor = named if named is not None else path.parent
        if not anchor.is_dir():
            raise ValidationError(
                f"{anchor} does not exist; outside the project at {root} daglab writes"
                " only into folders that exist",
                remediation=f"Create it first (mkdir -p {anchor}), or write inside the project.",
                path=str(path),
            )
    if path.is_symlink():
        raise ConflictError(
            f"{path} is a symbolic link; daglab does not write through links",
            remediation="Remove the link, or choose another path.",
            path=str(path),
        )
    if path.is_dir():
        raise ConflictError(f"{path} is a folder, expected a file", path=str(path))
    if path.exists() and not force and not _manifest.owns(root, path):
        raise ConflictError(
            f"{path} exists and daglab did not write it (or it changed since); left untouched",
            remediation="Pass --force to overwrite it, or choose another path.",
            path=str(path),
        )
    return path


def write_owned(
    root: Path,
    path: Path,
    content: str | bytes,
    *,
    generator: str,
    kind: str,
    explicit: bool = False,
    force: bool = False,
    named: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Written:
    """Write ``content`` to ``path`` under the rule above and record it in the manifest."""
    path = check_destination(root, path, explicit=explicit, force=force, named=named)
    existed = path.exists()
    data = content.encode("utf-8") if isinstance(content, str) else content
    # recorded first, with the hash it replaces: a kill at any moment leaves a file daglab owns
    _manifest.record_pending(root, path, data, generator=generator, kind=kind, extra=extra)
    atomic_write(path, data)
    return Written(path, "overwritten" if existed else "created")
