"""``.daglab/manifest.json``: which files daglab generated, from what, with which content.

Like an answers file, it lets later commands tell generated files from the user's own:
``daglab clean --notebooks`` removes a generated notebook only while it is unmodified, and an
export, a report or a migrated notebook is overwritten (or removed by retention) only while it
is still the content daglab wrote. Files inside the project are keyed by their path relative to
it, files the user sent elsewhere (``--output``, ``--to``) by their absolute path. Every change
is a read-modify-write under ``.daglab/manifest.lock`` so concurrent commands lose no entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from daglab._fs import Written, atomic_write, file_lock

MANIFEST = Path(".daglab") / "manifest.json"
LOCK = Path(".daglab") / "manifest.lock"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def key_for(root: Path, path: Path) -> str:
    """The manifest key of ``path``: relative to ``root`` inside it, else absolute."""
    resolved = path.parent.resolve() / path.name
    root = root.resolve()
    if resolved.is_relative_to(root):
        return resolved.relative_to(root).as_posix()
    return resolved.as_posix()


def path_for(root: Path, key: str) -> Path:
    return root / key  # an absolute key stays absolute


def load(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": 1, "files": {}}
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return {"version": 1, "files": {}}
    return data


@contextmanager
def _editing(root: Path) -> Iterator[dict[str, Any]]:
    """The manifest, locked; written back (atomically) when the block changed it."""
    with file_lock(root / LOCK):
        data = load(root)
        before = json.dumps(data, sort_keys=True)
        yield data
        if json.dumps(data, sort_keys=True) != before:
            atomic_write(root / MANIFEST, json.dumps(data, indent=2, sort_keys=True) + "\n")


def record(
    root: Path,
    written: Iterable[Written],
    *,
    generator: str,
    kind: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Remember every file that was created or overwritten (not ones left alone)."""
    from daglab._version import __version__

    items = [
        item
        for item in written
        if item.action in ("created", "overwritten", "updated") and item.path.is_file()
    ]
    if not items:
        return
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with _editing(root) as data:
        for item in items:
            data["files"][key_for(root, item.path)] = {
                "sha256": digest(item.path),
                "generator": generator,
                "kind": kind,
                "daglab_version": __version__,
                "created": now,
                **(extra or {}),
            }


def record_pending(
    root: Path,
    path: Path,
    data: bytes,
    *,
    generator: str,
    kind: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record ``data`` as ``path``'s content *before* it is written, keeping the hash of what
    daglab wrote there before: a process killed between this and the rename leaves a file
    that is still provably daglab's, whichever of the two contents it holds."""
    from daglab._version import __version__

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    key = key_for(root, path)
    with _editing(root) as manifest:
        before = manifest["files"].get(key)
        entry: dict[str, Any] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "generator": generator,
            "kind": kind,
            "daglab_version": __version__,
            "created": now,
            **(extra or {}),
        }
        if before and is_unmodified(root, key, before):
            entry["previous_sha256"] = digest(path)
        manifest["files"][key] = entry


def forget(root: Path, keys: Iterable[str]) -> None:
    """Drop entries (files daglab removed)."""
    gone = list(keys)
    if not gone:
        return
    with _editing(root) as data:
        for key in gone:
            data["files"].pop(key, None)


def update(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the manifest's data under the lock."""
    with _editing(root) as data:
        change(data)


def generated(root: Path, kind: str | None = None) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = load(root)["files"]
    return {rel: info for rel, info in files.items() if kind is None or info.get("kind") == kind}


def is_unmodified(root: Path, rel: str, info: Mapping[str, Any] | None = None) -> bool:
    """Whether the file recorded as ``rel`` is there, a regular file, with the recorded hash
    (or the one before it, while a replacement is on its way: see :func:`record_pending`)."""
    info = info if info is not None else load(root)["files"].get(rel)
    path = path_for(root, rel)
    if not info or path.is_symlink() or not path.is_file():
        return False
    try:
        return digest(path) in (info.get("sha256"), info.get("previous_sha256"))
    except OSError:
        return False


def owns(root: Path, path: Path) -> bool:
    """Whether ``path`` is a file daglab wrote and nobody changed since."""
    return is_unmodified(root, key_for(root, path))


def remember_last_notebook(root: Path, path: Path) -> None:
    """The notebook ``daglab dev`` opens when none is named."""
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    update(root, lambda data: data.__setitem__("last_notebook", rel))


def last_notebook(root: Path) -> Path | None:
    rel = load(root).get("last_notebook")
    return root / rel if isinstance(rel, str) and (root / rel).is_file() else None
