"""Where an export goes, and whether daglab may write there.

The default is beside the notebook, inside its project. ``--output`` may name a file or a folder
anywhere, because the user named it; outside the project the folder must already exist and
no retention applies there (see ``daglab._owned``).
"""

from __future__ import annotations

from pathlib import Path

from daglab._fs import check_name


def project_root(notebook: Path) -> Path:
    """The root of the project the notebook belongs to (its own folder when there is none)."""
    from daglab._project import find_project

    return find_project(notebook.resolve().parent).root


def export_target(notebook: Path, output: Path | None, compress: bool) -> Path:
    """Where the export of ``notebook`` goes: beside it, or ``output``.

    ``output`` is a file when it ends in ``.html`` (or ``.htm``, ``.gz``), otherwise a folder.
    """
    if output is None:
        target = notebook.with_suffix(".html")
    else:
        check_name(output, what="--output")
        if output.is_dir() or not output.name.endswith((".html", ".htm", ".gz")):
            target = output / f"{notebook.stem}.html"  # a folder
        else:
            target = output
    if compress and not target.name.endswith(".gz"):
        target = target.with_name(target.name + ".gz")
    return check_name(target, what="export")
