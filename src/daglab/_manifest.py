"""``.daglab/manifest.json``: which files daglab generated, from what, with which content.

Like an answers file, it lets later commands tell generated files from the user's own:
``daglab clean --notebooks`` removes a generated notebook only while it is unmodified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from daglab._fs import Written, atomic_write

MANIFEST = Path(".daglab") / "manifest.json"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": 1, "files": {}}
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return {"version": 1, "files": {}}
    return data


def record(root: Path, written: Iterable[Written], *, generator: str, kind: str) -> None:
    """Remember every file that was created or overwritten (not ones left alone)."""
    from daglab._version import __version__

    data = load(root)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    changed = False
    for item in written:
        if item.action not in ("created", "overwritten", "updated") or not item.path.is_file():
            continue
        rel = item.path.resolve().relative_to(root.resolve()).as_posix()
        data["files"][rel] = {
            "sha256": digest(item.path),
            "generator": generator,
            "kind": kind,
            "daglab_version": __version__,
            "created": now,
        }
        changed = True
    if changed:
        atomic_write(root / MANIFEST, json.dumps(data, indent=2, sort_keys=True) + "\n")


def generated(root: Path, kind: str | None = None) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = load(root)["files"]
    return {rel: info for rel, info in files.items() if kind is None or info.get("kind") == kind}


def is_unmodified(root: Path, rel: str) -> bool:
    info = load(root)["files"].get(rel)
    path = root / rel
    return bool(info) and path.is_file() and digest(path) == info["sha256"]


def remember_last_notebook(root: Path, path: Path) -> None:
    """The notebook ``daglab dev`` opens when none is named."""
    data = load(root)
    data["last_notebook"] = path.resolve().relative_to(root.resolve()).as_posix()
    atomic_write(root / MANIFEST, json.dumps(data, indent=2, sort_keys=True) + "\n")


def last_notebook(root: Path) -> Path | None:
    rel = load(root).get("last_notebook")
    return root / rel if isinstance(rel, str) and (root / rel).is_file() else None
