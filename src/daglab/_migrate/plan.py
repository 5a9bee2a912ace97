"""``daglab migrate``: Jupyter notebooks to marimo notebooks, with a report of what changed.

The conversion itself is marimo's (``MarimoConvert.from_ipynb``, the code behind
``marimo convert``): it comments out or rewrites magics, turns ``!`` commands into ``subprocess``
calls and pip packages into a PEP 723 header, renames names defined in more than one cell and
turns markdown cells into ``mo.md(...)``. Around it daglab

* validates every source before anything is written (a folder is all or nothing),
* keeps raw cells as markdown code blocks (marimo would treat them as Python),
* drops cells that held only line magics and are left with nothing but comments,
* keeps text outputs as comments with ``preserve_outputs``,
* adds an ``import marimo as mo`` cell when a cell uses ``mo`` and nothing defines it,
* adds a cell importing daglab's notebook helpers, minus the names the notebook defines,
* and reports magics, renames, leftover duplicate definitions and unparsable cells.

Cell numbers in reports are 1-based positions in the Jupyter notebook, markdown cells included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daglab._errors import ConflictError, UsageError, ValidationError
from daglab._logging import get_logger
from daglab._migrate.convert import Converted, convert_notebook
from daglab._migrate.reading import _Invalid, read_notebook
from daglab._migrate.report import NotebookReport
from daglab._project import find_project

CHECKPOINTS_DIR = ".ipynb_checkpoints"


@dataclass
class MigrationPlan:
    """Every notebook converted in memory and every destination checked; nothing written yet."""

    items: list[Converted]
    dry_run: bool = False
    #: The project the notebooks belong to: its manifest records what was written.
    root: Path = field(default_factory=Path.cwd)
    #: Whether ``--to`` named the destination (then it may be outside the project).
    explicit: bool = False
    #: The folder ``--to`` named for a folder of notebooks (it must exist outside the project).
    named: Path | None = None
    force: bool = False

    @property
    def reports(self) -> list[NotebookReport]:
        return [item.report for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "count": len(self.items),
            "notebooks": [r.to_dict() for r in self.reports],
        }


# -- planning -------------------------------------------------------------------------------------


def plan_migration(
    source: Path,
    to: Path | str | None = None,
    *,
    preserve_outputs: bool = False,
    helpers: bool = True,
    force: bool = False,
    dry_run: bool = False,
) -> MigrationPlan:
    """Validate and convert every notebook, check every destination; write nothing.

    Raises UsageError for a destination that cannot work, ValidationError naming every source
    that is not a readable notebook, and ConflictError for existing destinations without
    ``force``.
    """
    from daglab._compat import require

    require("marimo", needed_for="daglab migrate (marimo's converter)")
    pairs = _pairs(source, to)
    failures: list[tuple[Path, str]] = []
    items: list[Converted] = []
    for src, dest in pairs:
        try:
            notebook = read_notebook(src)
            converted = convert_notebook(
                notebook, preserve_outputs=preserve_outputs, helpers=helpers
            )
        except _Invalid as exc:
            failures.append((src, str(exc)))
            continue
        converted.report.source = src
        converted.report.output = dest
        items.append(converted)
    if failures:
        listing = "; ".join(f"{path}: {reason}" for path, reason in failures)
        prefix = (
            f"{len(failures)} of {len(pairs)} notebooks cannot be migrated"
            if len(pairs) > 1
            else "Cannot migrate"
        )
        raise ValidationError(
            f"{prefix} (nothing was written): {listing}",
            remediation="Fix or remove the file(s) named above; only nbformat 4 notebooks"
            " (.ipynb JSON) can be migrated.",
            failures=[{"path": str(p), "reason": r} for p, r in failures],
        )
    from daglab._fs import check_name
    from daglab._owned import check_destination

    root = find_project().root  # the project daglab runs in, as for every command
    explicit = to is not None
    named = Path(to) if (to is not None and len(pairs) > 1) or (source.is_dir() and to) else None
    existing: list[Path] = []
    for item in items:
        for path in (item.report.output, item.report.report_path):
            check_name(path, what="--to")
            if path.is_dir() or path.is_symlink():
                kind = "a folder" if path.is_dir() else "a symbolic link"
                raise ConflictError(
                    f"{path} is {kind}; daglab writes migrated notebooks only to regular files",
                    remediation="Choose another destination with --to.",
                )
            try:
                check_destination(
                    root, path, explicit=explicit, force=force, what="--to", named=named
                )
            except ConflictError:
                existing.append(path)
    if existing:
        raise ConflictError(
            f"{len(existing)} destination(s) exist, daglab did not write them, and were left"
            " untouched: " + ", ".join(str(p) for p in existing),
            remediation="Pass --force to overwrite, or choose another destination with --to.",
            paths=[str(p) for p in existing],
        )
    for item in items:
        exists = _exists(item.report.output)
        item.report.action = ("would overwrite" if exists else "would create") if dry_run else ""
    return MigrationPlan(
        items=items, dry_run=dry_run, root=root, explicit=explicit, named=named, force=force
    )


def execute(plan: MigrationPlan) -> list[NotebookReport]:
    """Write every converted notebook and its ``.migration.md`` report (atomically)."""
    from daglab._owned import write_owned

    log = get_logger("migrate")
    if plan.dry_run:
        return plan.reports
    for item in plan.items:
        report = item.report
        report.action = "overwritten" if _exists(report.output) else "created"
        extra = {"source": str(report.source.resolve())}
        for path, content, kind in (
            (report.output, item.source, "migrated-notebook"),
            (report.report_path, report.to_markdown(), "migration-report"),
        ):
            write_owned(
                plan.root,
                path,
                content,
                generator="migrate",
                kind=kind,
                explicit=plan.explicit,
                force=plan.force,
                named=plan.named,
                extra=extra,
            )
        log.info("migrated %s -> %s (%s)", report.source, report.output, report.action)
    return plan.reports


def find_notebooks(folder: Path) -> list[Path]:
    """Every ``.ipynb`` under ``folder``, skipping checkpoints and hidden folders."""
    found = []
    for path in folder.rglob("*.ipynb"):
        parents = path.relative_to(folder).parts[:-1]
        if any(part == CHECKPOINTS_DIR or part.startswith(".") for part in parents):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def _pairs(source: Path, target: Path | str | None) -> list[tuple[Path, Path]]:
    """(notebook, destination) for every notebook the command will migrate.

    ``target`` names a folder when it is one, or (as text) ends with a path separator.
    """
    from daglab._fs import check_name

    check_name(source, what="--from-jupyter")
    to = None if target is None else check_name(Path(target), what="--to")
    as_folder = isinstance(target, str) and target.endswith(("/", os.sep))
    if source.is_dir():
        if to is not None and (to.is_file() or (not to.exists() and to.suffix == ".py")):
            raise UsageError(
                f"--to {to} must be a folder when --from-jupyter is a folder",
                remediation="Give a folder for --to; the layout under the source is mirrored.",
            )
        notebooks = find_notebooks(source)
        if not notebooks:
            raise ValidationError(
                f"No .ipynb notebooks under {source} (checkpoints and hidden folders skipped)",
                remediation="Give a notebook file or a folder that contains notebooks.",
            )
        root = source if to is None else to
        pairs = [(nb, root / nb.relative_to(source).with_suffix(".py")) for nb in notebooks]
    else:
        if to is None:
            dest = source.with_suffix(".py")
        elif to.is_dir() or as_folder:
            dest = to / f"{source.stem}.py"
        else:
            dest = to
        pairs = [(source, dest)]
    for src, dest in pairs:
        if dest.suffix != ".py":
            raise UsageError(
                f"The destination {dest} does not end in .py; marimo notebooks are Python files",
                remediation="Give --to a path ending in .py, or a folder (one that exists,"
                " or written with a trailing /).",
            )
        if _same_file(src, dest):
            raise UsageError(
                f"The destination {dest} is the source itself",
                remediation="Give another path with --to.",
            )
    return pairs


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()
