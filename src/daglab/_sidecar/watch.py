"""The workspace file ``daglab dev``'s Dagster child serves, watched for changes.

A running ``dagster dev`` does not pick up a new workspace entry, not even after a reload: it
must restart. The session polls these files (a stat per tick; their bytes only when the stat
changed) and restarts the Dagster child when their content differs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


class FileWatch:
    """Whether any of ``paths`` changed content since the last look."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self._stats = self._stat()
        self._digests = self._digest()

    def _stat(self) -> tuple[tuple[int, int, int] | None, ...]:
        found: list[tuple[int, int, int] | None] = []
        for path in self.paths:
            try:
                info = path.stat()
            except OSError:
                found.append(None)
                continue
            found.append((info.st_ino, info.st_mtime_ns, info.st_size))
        return tuple(found)

    def _digest(self) -> tuple[str | None, ...]:
        found: list[str | None] = []
        for path in self.paths:
            try:
                found.append(hashlib.sha256(path.read_bytes()).hexdigest())
            except OSError:
                found.append(None)
        return tuple(found)

    def changed(self) -> bool:
        stats = self._stat()
        if stats == self._stats:
            return False
        self._stats = stats
        digests = self._digest()
        if digests == self._digests:
            return False  # touched, not changed
        self._digests = digests
        return True
