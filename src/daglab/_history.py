"""A local history of what Dagster does not record: in-process runs, exports, sweeps, and
the audit trail of the changes daglab made in Dagster (``daglab._client._audit``).

One JSON object per line in ``.daglab/history.jsonl`` of the project, written only when the
project has a ``.daglab/`` folder (as ``daglab init`` makes), appended under a file lock so
several processes (a notebook kernel, the CLI) can record at once. Runs launched in Dagster are
read from Dagster by their ``daglab/*`` tags; here only their audit events (who asked, a digest
of the variables, the outcome) are kept.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HISTORY = Path(".daglab") / "history.jsonl"
#: The file is cut back to its newest half when it grows past this many bytes.
MAX_BYTES = 5 * 2**20
KINDS = ("inprocess", "export", "sweep", "attach", "audit")


@dataclass(frozen=True)
class Event:
    kind: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at, **self.data}


def history_path(root: Path) -> Path:
    return root / HISTORY


def _project_root(start: Path | None) -> Path | None:
    from daglab._project import find_project

    project = find_project(start)
    return project.root if project.daglab_dir.is_dir() else None


def record(kind: str, data: Mapping[str, Any], *, start: Path | None = None) -> bool:
    """Append one event for the project around ``start`` (default: cwd); False if none.

    Never raises for an I/O problem: history is a convenience, not part of the work.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown history kind {kind!r}; one of {', '.join(KINDS)}")
    try:
        root = _project_root(start)
        if root is None:
            return False
        path = history_path(root)
        event = {**data, "kind": kind, "at": time.time()}  # the event's own kind always wins
        line = json.dumps(event, default=str) + "\n"
        _append(path, line.encode("utf-8"))
    except OSError:
        return False
    return True


def _append(path: Path, data: bytes) -> None:
    from daglab._fs import file_lock

    with file_lock(path) as handle:
        handle.write(data)
        handle.flush()
        if handle.tell() > MAX_BYTES:
            _trim(path)


def _trim(path: Path) -> None:
    """Keep the newest half of the lines (called with the lock held)."""
    from daglab._fs import atomic_write

    lines = path.read_bytes().splitlines(keepends=True)
    atomic_write(path, b"".join(lines[len(lines) // 2 :]))
    os.utime(path)


def read(
    root: Path, *, since: float | None = None, kinds: Iterable[str] | None = None
) -> list[Event]:
    """Events of the project at ``root``, oldest first; unreadable lines are skipped."""
    path = history_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    wanted = set(kinds) if kinds is not None else None
    events = []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            continue
        kind = raw.pop("kind")
        at = float(raw.pop("at", 0.0))
        if (wanted is None or kind in wanted) and (since is None or at >= since):
            events.append(Event(kind, at, raw))
    return events
