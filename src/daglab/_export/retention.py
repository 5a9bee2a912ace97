"""Removing a notebook's older exports: only files daglab recorded exporting, unchanged since."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from daglab import _manifest


def apply_retention(
    root: Path, notebook: Path, folder: Path, days: float, *, keep: Iterable[Path] = ()
) -> list[Path]:
    """Remove this notebook's exports in ``folder`` older than ``days``; return them.

    Only files the manifest of the project at ``root`` records as exports of ``notebook``, whose
    content is still what daglab wrote, inside the project: a user's ``nb-2023-notes.html``
    beside them, or a file anyone edited since, is never touched, nor are links and folders.
    """
    from daglab._owned import inside

    cutoff = time.time() - days * 86400
    kept = {Path(p).resolve() for p in keep}
    source = _manifest.key_for(root, notebook)
    folder = folder.resolve()
    removed: list[Path] = []
    gone: list[str] = []
    for key, info in sorted(_manifest.generated(root, kind="export").items()):
        path = _manifest.path_for(root, key)
        if info.get("source") != source or not inside(root, path):
            continue
        if path.parent.resolve() != folder or path.resolve() in kept:
            continue
        if not path.exists() and not path.is_symlink():
            gone.append(key)  # removed by hand: nothing left to own
            continue
        if not _manifest.is_unmodified(root, key, info) or path.lstat().st_mtime >= cutoff:
            continue
        path.unlink()
        removed.append(path)
        gone.append(key)
    _manifest.forget(root, gone)
    return removed
