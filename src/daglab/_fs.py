"""File writes that never leave a half-written file, and never escape the project.

``atomic_write`` writes ``.<name>.<random>.tmp`` beside the file and renames it into place, so a
process killed mid-write leaves the old content and, at worst, that temporary file (which
``daglab clean`` removes). ``file_lock`` is the one lock for read-modify-write of a shared file
(the history and the manifest).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from daglab._errors import ConflictError, ValidationError


@dataclass(frozen=True)
class Written:
    """What a write did: ``created``, ``overwritten``, ``unchanged`` or ``skipped`` (exists)."""

    path: Path
    action: str


#: ``DAGLAB_TEST_PAUSE_WRITES=SECONDS`` sleeps that long after a temporary file is half written
#: and again before it is renamed, so a fault-injection test can SIGKILL the process exactly
#: there (tests/integration/test_kill9.py). Unset, it costs one environment lookup.
PAUSE_ENV = "DAGLAB_TEST_PAUSE_WRITES"


def _pause() -> None:
    delay = os.environ.get(PAUSE_ENV)
    if delay:
        time.sleep(float(delay))


def temp_name_prefix(path: Path) -> str:
    """The prefix of ``atomic_write``'s temporary files for ``path`` (suffix ``.tmp``)."""
    return f".{path.name}."


def atomic_write(path: Path, content: str | bytes, *, mode: int | None = None) -> None:
    """Write via a temporary file in the same folder and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_name_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if os.environ.get(PAUSE_ENV):
                handle.write(data[: len(data) // 2])
                handle.flush()
                _pause()
                data = data[len(data) // 2 :]
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
        _pause()
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


@contextmanager
def file_lock(path: Path) -> Iterator[BinaryIO]:
    """Hold an exclusive lock on ``path`` (opened for appending, made if missing).

    The one lock for a read-modify-write of a file several processes share. A writer that
    replaced the file (``atomic_write``) while we waited leaves us holding the old one, so the
    lock is taken again on the file now at ``path``. Windows has no ``flock``: no lock there.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        with path.open("ab") as handle:
            yield handle
        return
    while True:
        with path.open("ab") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if not _same_file(handle.fileno(), path):
                continue  # replaced while we waited: lock the new one
            try:
                yield handle
            finally:
                handle.flush()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return


def _same_file(fd: int, path: Path) -> bool:
    try:
        current = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)


#: Longest file name (one path component) the usual filesystems accept, in bytes.
NAME_MAX = 255


def check_name(path: Path, *, what: str = "path") -> Path:
    """``path``, or a ValidationError (exit 7) naming it when no filesystem would take it.

    Refused: a component longer than ``NAME_MAX`` bytes, NUL or other control characters.
    """
    shown = repr(str(path)) if len(str(path)) <= 120 else repr(str(path)[:100] + "…")
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise ValidationError(
                f"{what} {shown}: the name {part[:40]!r}… is {len(os.fsencode(part))} bytes"
                f" long; file systems take at most {NAME_MAX}",
                remediation="Choose a shorter file name.",
                path=str(path),
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in part):
            raise ValidationError(
                f"{what} {shown} contains control characters",
                remediation="Choose a file name of printable characters.",
                path=str(path),
            )
    return path
