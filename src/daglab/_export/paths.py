"""Where an export goes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def export_target(notebook: Path, output: Path | None, compress: bool) -> Path:
    """Where the export of ``notebook`` goes: beside it, or ``output``.

    ``output`` is a file when it ends in ``.html`` (or ``.htm``, ``.gz``), otherwise a folder.
    """
    if output is None:
        target = notebook.with_suffix(".html")
    elif output.is_dir() or not output.name.endswith((".html", ".htm", ".gz")):
        target = output / f"{notebook.stem}.html"  # a folder, made if need be
    else:
        target = output
    if compress and not target.name.endswith(".gz"):
        target = target.with_name(target.name + ".gz")
    return target
