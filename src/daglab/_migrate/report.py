"""What a migration did to one notebook, as JSON and as a ``.migration.md`` report."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_SUFFIX = ".migration.md"
HELPERS_MODULE = "daglab.helpers"


@dataclass(frozen=True)
class Magic:
    """A magic or shell escape found in the notebook (``kind`` says which)."""

    cell: int
    line: int
    kind: str  # cell magic | line magic | shell escape | help syntax
    text: str


@dataclass(frozen=True)
class Rename:
    """A name marimo renamed where it is defined (and in the uses that follow)."""

    cell: int
    old: str
    new: str


@dataclass
class NotebookReport:
    """What one notebook's migration did, for the console, ``--json`` and the markdown report."""

    source: Path
    output: Path
    code_cells: int = 0
    markdown_cells: int = 0
    raw_cells: int = 0
    marimo_cells: int = 0
    magics: list[Magic] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    removed_imports: list[tuple[int, str]] = field(default_factory=list)
    conflicts: dict[str, list[int]] = field(default_factory=dict)
    unparsable: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    helpers_imported: list[str] = field(default_factory=list)
    helpers_skipped: list[str] = field(default_factory=list)
    outputs_preserved: int = 0
    preserve_outputs: bool = False
    dependencies: list[str] = field(default_factory=list)
    action: str = ""

    @property
    def report_path(self) -> Path:
        return report_path_for(self.output)

    @property
    def warnings(self) -> int:
        return len(self.conflicts) + len(self.unparsable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "output": str(self.output),
            "report": str(self.report_path),
            "action": self.action,
            "cells": {
                "code": self.code_cells,
                "markdown": self.markdown_cells,
                "raw": self.raw_cells,
                "marimo": self.marimo_cells,
            },
            "magics": [dataclasses.asdict(m) for m in self.magics],
            "renamed": [dataclasses.asdict(r) for r in self.renamed],
            "removed_imports": [{"cell": c, "name": n} for c, n in self.removed_imports],
            "conflicts": [{"name": n, "cells": c} for n, c in self.conflicts.items()],
            "unparsable_cells": self.unparsable,
            "dropped_cells": self.dropped,
            "helpers": {"imported": self.helpers_imported, "skipped": self.helpers_skipped},
            "outputs_preserved": self.outputs_preserved if self.preserve_outputs else None,
            "dependencies": self.dependencies,
        }

    def to_markdown(self) -> str:
        """The small report written beside the output as ``<stem>.migration.md``."""
        here = self.output.parent
        lines = [
            f"# Migration report: {self.source.name}",
            "",
            f"- Source: {_code(_relative(self.source, here))}",
            f"- Output: {_code(self.output.name)}",
            f"- Cells: {self.code_cells} code, {self.markdown_cells} markdown,"
            f" {self.raw_cells} raw (kept as markdown) → {self.marimo_cells} marimo cells",
        ]
        if self.helpers_imported:
            lines.append(
                f"- Helpers imported from {_code(HELPERS_MODULE)}: "
                + ", ".join(_code(n) for n in self.helpers_imported)
            )
        if self.helpers_skipped:
            lines.append(
                "- Helpers skipped (the notebook defines these names): "
                + ", ".join(_code(n) for n in self.helpers_skipped)
            )
        if self.preserve_outputs:
            lines.append(f"- Outputs kept as comments in {self.outputs_preserved} cell(s)")
        else:
            lines.append("- Outputs: not kept (`--preserve-outputs` keeps text outputs)")
        if self.dependencies:
            lines.append(
                "- Packages from `!pip install`, in the script header: "
                + ", ".join(_code(d) for d in self.dependencies)
            )
        if self.magics:
            lines += ["", "## Magics and shell escapes", "", "| cell | line | kind | text |"]
            lines.append("|---:|---:|---|---|")
            lines += [f"| {m.cell} | {m.line} | {m.kind} | {_code(m.text)} |" for m in self.magics]
        if self.renamed or self.removed_imports:
            lines += ["", "## Renamed or removed by marimo", ""]
            lines += [
                f"- cell {r.cell}: {_code(r.old)} → {_code(r.new)} "
                + ("(private to the cell)" if r.new == f"_{r.old}" else "(and its later uses)")
                for r in self.renamed
            ]
            lines += [
                f"- cell {c}: duplicate import of {_code(n)} removed"
                for c, n in self.removed_imports
            ]
        if self.conflicts:
            lines += ["", "## Defined in more than one cell (fix before running)", ""]
            lines += [
                f"- {_code(n)}: cells {', '.join(map(str, cells))}"
                for n, cells in self.conflicts.items()
            ]
        if self.unparsable:
            lines += ["", "## Cells marimo cannot parse (fix before running)", ""]
            lines.append("- cells " + ", ".join(map(str, self.unparsable)))
        if self.dropped:
            lines += ["", "## Cells dropped (only line magics, nothing left to run)", ""]
            lines.append("- cells " + ", ".join(map(str, self.dropped)))
        lines += ["", f"Check the result with `marimo check {self.output.name}`.", ""]
        return "\n".join(lines)


def report_path_for(output: Path) -> Path:
    return output.with_name(output.stem + REPORT_SUFFIX)


# -- report helpers -------------------------------------------------------------------------------


def _code(text: str) -> str:
    """``text`` as a markdown code span that survives backticks and table pipes."""
    text = text.replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(path)
