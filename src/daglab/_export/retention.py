"""Removing a notebook's older exports."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from daglab._clean import EXPORT_SUFFIXES

if TYPE_CHECKING:
    pass


def _export_base(name: str) -> str | None:
    for suffix in EXPORT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def apply_retention(
    notebook: Path, folder: Path, days: float, *, keep: Iterable[Path] = ()
) -> list[Path]:
    """Remove this notebook's exports in ``folder`` older than ``days``; return them.

    A notebook ``nb.py``'s exports are ``nb.html``, ``nb.html.gz`` and dated copies such as
    ``nb-2024-01-05.html``; a file that belongs to another notebook (``nb-v2.html`` when
    ``nb-v2.py`` sits beside ``nb.py``) is never touched, nor are links and folders.
    """
    cutoff = time.time() - days * 86400
    kept = {Path(p).resolve() for p in keep}
    base = notebook.stem
    removed = []
    for candidate in sorted(folder.glob(f"{base}*.html*")):
        owner = _export_base(candidate.name)
        if owner is None or candidate.is_symlink() or not candidate.is_file():
            continue
        if owner != base and not (
            owner.startswith((f"{base}-", f"{base}."))
            and not (notebook.parent / f"{owner}.py").exists()
        ):
            continue
        if candidate.resolve() in kept or candidate.stat().st_mtime >= cutoff:
            continue
        candidate.unlink()
        removed.append(candidate)
    return removed
