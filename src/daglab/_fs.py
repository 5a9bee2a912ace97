"""File writes that never leave a half-written file, and never escape the project."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from daglab._errors import ConflictError, ValidationError


@dataclass(frozen=True)
class Written:
    """What a write did: ``created``, ``overwritten``, ``unchanged`` or ``skipped`` (exists)."""

    path: Path
    action: str


def atomic_write(path: Path, content: str | bytes, *, mode: int | None = None) -> None:
    """Write via a temporary file in the same folder and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            Path(tmp).chmod(mode)
        elif path.exists():
            Path(tmp).chmod(path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            Path(tmp).chmod(0o666 & ~umask)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_inside(root: Path, path: Path) -> Path:
    """``path`` resolved, or a ValidationError when it would land outside ``root``."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ValidationError(
            f"{path} is outside the project at {root}",
            remediation="Give a path inside the project folder.",
        )
    return resolved


def write_file(root: Path, path: Path, content: str, *, force: bool = False) -> Written:
    """Write ``content`` to ``path`` (inside ``root``) unless it exists with other content."""
    ensure_inside(root, path)
    if path.is_symlink():
        raise ConflictError(f"{path} is a symbolic link; daglab does not write through links")
    if path.exists():
        if path.is_dir():
            raise ConflictError(f"{path} is a folder, expected a file")
        if path.read_text(encoding="utf-8", errors="replace") == content:
            return Written(path, "unchanged")
        if not force:
            return Written(path, "skipped")
        atomic_write(path, content)
        return Written(path, "overwritten")
    atomic_write(path, content)
    return Written(path, "created")


def make_dir(root: Path, path: Path) -> Written:
    ensure_inside(root, path)
    if path.is_dir():
        return Written(path, "unchanged")
    if path.exists():
        raise ConflictError(f"{path} exists and is not a folder")
    path.mkdir(parents=True)
    return Written(path, "created")
