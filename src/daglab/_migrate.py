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

import ast
import copy
import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import ConflictError, UsageError, ValidationError
from daglab._fs import atomic_write
from daglab._logging import get_logger

if TYPE_CHECKING:
    from marimo._ast.cell import CellImpl
    from marimo._schemas.serialization import CellDef

HELPERS_MODULE = "daglab.helpers"
HELPER_NAMES = (
    "run_job",
    "discover",
    "attach_metadata",
    "run_inprocess",
    "validate_config",
    "track_performance",
    "manage_state",
)
#: Comment lines kept per cell with ``preserve_outputs``, and characters per line.
MAX_OUTPUT_LINES = 50
MAX_OUTPUT_LINE_CHARS = 200
REPORT_SUFFIX = ".migration.md"
CHECKPOINTS_DIR = ".ipynb_checkpoints"

_MARKER = "__daglab_cell_"
_DEFAULT_CELL_NAME = "_"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ASSIGNED_ESCAPE = re.compile(r"^[\w.,\s\[\]()'\"]+?=\s*([!%])")
_HELP_SYNTAX = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)$")
_TIMING_CELL_MAGICS = ("time", "timeit")


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


@dataclass
class Converted:
    """A converted notebook: the marimo source and what the conversion did."""

    source: str
    report: NotebookReport


@dataclass
class MigrationPlan:
    """Every notebook converted in memory and every destination checked; nothing written yet."""

    items: list[Converted]
    dry_run: bool = False

    @property
    def reports(self) -> list[NotebookReport]:
        return [item.report for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "count": len(self.items),
            "notebooks": [r.to_dict() for r in self.reports],
        }


class _Invalid(Exception):
    """Why one source cannot be migrated (collected, then raised as one ValidationError)."""


def report_path_for(output: Path) -> Path:
    return output.with_name(output.stem + REPORT_SUFFIX)


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
    existing = [item.report.output for item in items if _exists(item.report.output)]
    for path in existing:
        if path.is_dir() or path.is_symlink():
            kind = "a folder" if path.is_dir() else "a symbolic link"
            raise ConflictError(
                f"{path} is {kind}; daglab writes migrated notebooks only to regular files",
                remediation="Choose another destination with --to.",
            )
    if existing and not force:
        raise ConflictError(
            f"{len(existing)} destination(s) exist and were left untouched: "
            + ", ".join(str(p) for p in existing),
            remediation="Pass --force to overwrite, or choose another destination with --to.",
            paths=[str(p) for p in existing],
        )
    for item in items:
        exists = _exists(item.report.output)
        item.report.action = ("would overwrite" if exists else "would create") if dry_run else ""
    return MigrationPlan(items=items, dry_run=dry_run)


def execute(plan: MigrationPlan) -> list[NotebookReport]:
    """Write every converted notebook and its ``.migration.md`` report (atomically)."""
    log = get_logger("migrate")
    if plan.dry_run:
        return plan.reports
    for item in plan.items:
        report = item.report
        report.action = "overwritten" if _exists(report.output) else "created"
        atomic_write(report.output, item.source)
        atomic_write(report.report_path, report.to_markdown())
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
    to = None if target is None else Path(target)
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


# -- reading --------------------------------------------------------------------------------------


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook at ``path`` as JSON, or _Invalid saying why it is not an nbformat 4 file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Invalid("file not found") from None
    except IsADirectoryError:
        raise _Invalid("is a folder, not a notebook file") from None
    except UnicodeDecodeError as exc:
        raise _Invalid(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise _Invalid(f"cannot be read ({exc.strerror or exc})") from None
    return parse_notebook(text)


def parse_notebook(text: str) -> dict[str, Any]:
    """Notebook JSON text checked for the structure conversion relies on."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise _Invalid(f"not a Jupyter notebook (the JSON is a {type(data).__name__})")
    version = data.get("nbformat")
    if "cells" not in data:
        if "worksheets" in data or (isinstance(version, int) and version < 4):
            raise _Invalid(
                f"nbformat {version} notebooks are not supported; convert it with"
                " `jupyter nbconvert --to notebook --nbformat 4`"
            )
        raise _Invalid("not a Jupyter notebook (no 'cells' list)")
    if version is not None and (not isinstance(version, int) or version < 4):
        raise _Invalid(f"nbformat {version!r} is not supported (nbformat 4 is)")
    cells = data["cells"]
    if not isinstance(cells, list):
        raise _Invalid("not a Jupyter notebook ('cells' is not a list)")
    if not isinstance(data.get("metadata", {}), dict):
        raise _Invalid("not a Jupyter notebook ('metadata' is not an object)")
    for number, cell in enumerate(cells, start=1):
        where = f"cell {number}"
        if not isinstance(cell, dict):
            raise _Invalid(f"{where} is not an object")
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise _Invalid(f"{where} has cell_type {cell.get('cell_type')!r}")
        source = cell.get("source")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(s, str) for s in source)
        ):
            raise _Invalid(f"{where} has no text 'source'")
        if not isinstance(cell.get("metadata", {}), dict):
            raise _Invalid(f"{where} has a 'metadata' that is not an object")
        outputs = cell.get("outputs", [])
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise _Invalid(f"{where} has 'outputs' that are not a list of objects")
    return data


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


# -- converting -----------------------------------------------------------------------------------


def convert_notebook(
    notebook: dict[str, Any], *, preserve_outputs: bool = False, helpers: bool = True
) -> Converted:
    """Convert checked notebook JSON (see ``parse_notebook``) to marimo source, with a report."""
    from marimo._convert.converters import MarimoConvert

    report = NotebookReport(source=Path(), output=Path(), preserve_outputs=preserve_outputs)
    cells: list[dict[str, Any]] = notebook["cells"]
    prepared = copy.deepcopy(notebook)
    original_names: dict[int, str] = {}
    for index, cell in enumerate(prepared["cells"]):
        number = index + 1
        kind = cell["cell_type"]
        if kind == "markdown":
            report.markdown_cells += 1
        elif kind == "raw":
            report.raw_cells += 1
            cell["cell_type"] = "markdown"
            cell["source"] = _fenced(_text(cell["source"]))
        else:
            report.code_cells += 1
            report.magics += find_magics(_text(cell["source"]), number)
            # marimo keeps a cell's name from its metadata: a marker maps cells back.
            meta = cell.setdefault("metadata", {})
            marimo_meta = meta.get("marimo")
            if not isinstance(marimo_meta, dict):
                marimo_meta = meta["marimo"] = {}
            original_names[number] = str(marimo_meta.get("name", _DEFAULT_CELL_NAME))
            marimo_meta["name"] = f"{_MARKER}{number}"
    try:
        ir = MarimoConvert.from_ipynb(json.dumps(prepared)).to_ir()
    except Exception as exc:  # marimo's own failure on an odd notebook: report, don't crash
        raise _Invalid(f"marimo could not convert it ({type(exc).__name__}: {exc})") from exc

    mapped: list[tuple[int | None, CellDef]] = []
    for cell_def in ir.cells:
        origin = _marker_number(cell_def.name)
        if origin is None:
            mapped.append((None, cell_def))
            continue
        restored = dataclasses.replace(cell_def, name=original_names.get(origin, "_"))
        mapped.append((origin, restored))

    mapped = _drop_magic_only_cells(mapped, report)
    if preserve_outputs:
        mapped = _append_outputs(mapped, cells, report)
    _find_renames(mapped, cells, report)
    mapped = _ensure_marimo_import(mapped)
    if helpers:
        mapped = _add_helpers(mapped, report)
    # marimo keeps one empty cell for an empty notebook; drop it once there is something else.
    mapped = [(n, c) for n, c in mapped if c.code.strip()] or mapped[:1]
    report.conflicts = _conflicts(mapped)
    report.unparsable = [n for n, c in mapped if n is not None and _compile(c.code) is None]
    report.marimo_cells = len(mapped)
    report.dependencies = _dependencies(ir.header.value if ir.header else "")
    final = dataclasses.replace(ir, cells=[c for _, c in mapped])
    return Converted(source=MarimoConvert.from_ir(final).to_py(), report=report)


def _marker_number(name: str) -> int | None:
    if name.startswith(_MARKER) and name[len(_MARKER) :].isdigit():
        return int(name[len(_MARKER) :])
    return None


def _fenced(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}" if text.strip() else ""


def find_magics(source: str, number: int) -> list[Magic]:
    """Magics (``%``, ``%%``), shell escapes (``!``) and ``?`` help in one code cell."""
    found: list[Magic] = []
    seen_code = False
    for line_no, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        first = not seen_code
        seen_code = True
        if stripped.startswith("%%"):
            if first:
                found.append(Magic(number, line_no, "cell magic", stripped))
                name = stripped[2:].split(maxsplit=1)[0] if stripped[2:].strip() else ""
                if name not in _TIMING_CELL_MAGICS:
                    break  # the rest of the cell is the magic's input, not Python
                continue
            found.append(Magic(number, line_no, "line magic", stripped))
        elif stripped.startswith("%"):
            found.append(Magic(number, line_no, "line magic", stripped))
        elif stripped.startswith("!") and not stripped.startswith("!="):
            found.append(Magic(number, line_no, "shell escape", stripped))
        elif stripped.startswith("#"):
            continue
        elif (match := _ASSIGNED_ESCAPE.match(stripped)) is not None:
            kind = "shell escape" if match.group(1) == "!" else "line magic"
            if not stripped[match.end(1) :].startswith("="):
                found.append(Magic(number, line_no, kind, stripped))
        elif _HELP_SYNTAX.match(stripped):
            found.append(Magic(number, line_no, "help syntax", stripped))
    return found


def _statements(code: str) -> int | None:
    """How many statements other than ``pass`` ``code`` has; None when it does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return sum(1 for node in tree.body if not isinstance(node, ast.Pass))


def _drop_magic_only_cells(
    mapped: list[tuple[int | None, CellDef]], report: NotebookReport
) -> list[tuple[int | None, CellDef]]:
    """Cells that held only line magics (``%matplotlib inline``) and now hold only comments.

    The magics themselves are in the report; an all-comment cell would only draw marimo
    check's empty-cell warning. Cells with a cell magic keep their commented-out input.
    """
    by_cell: dict[int, list[Magic]] = {}
    for magic in report.magics:
        by_cell.setdefault(magic.cell, []).append(magic)
    kept: list[tuple[int | None, CellDef]] = []
    for number, cell in mapped:
        magics = by_cell.get(number, []) if number is not None else []
        if (
            number is not None
            and magics
            and all(m.kind != "cell magic" for m in magics)
            and _statements(cell.code) == 0
        ):
            report.dropped.append(number)
            continue
        kept.append((number, cell))
    return kept


def _append_outputs(
    mapped: list[tuple[int | None, CellDef]],
    cells: list[dict[str, Any]],
    report: NotebookReport,
) -> list[tuple[int | None, CellDef]]:
    result: list[tuple[int | None, CellDef]] = []
    for number, cell in mapped:
        if number is not None:
            lines = output_comment_lines(cells[number - 1].get("outputs", []))
            if lines:
                report.outputs_preserved += 1
                code = cell.code.rstrip() + "\n\n" + "\n".join(lines)
                cell = dataclasses.replace(cell, code=code)
        result.append((number, cell))
    return result


def output_comment_lines(outputs: list[dict[str, Any]]) -> list[str]:
    """Jupyter outputs as ``# `` comment lines: text kept, images and HTML only noted."""
    text: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text += _clean_lines(_text(output.get("text")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data")
            data = data if isinstance(data, dict) else {}
            if any(str(mime).startswith("image/") for mime in data):
                text.append("[image output omitted]")
            elif "text/plain" in data:
                text += _clean_lines(_text(data["text/plain"]))
            elif data:
                text.append(f"[{sorted(data)[0]} output omitted]")
        elif kind == "error":
            ename, evalue = str(output.get("ename", "Error")), str(output.get("evalue", ""))
            text += _clean_lines(f"{ename}: {evalue}" if evalue else ename)
    while text and not text[-1].strip():
        text.pop()
    if not text:
        return []
    if len(text) > MAX_OUTPUT_LINES:
        more = len(text) - MAX_OUTPUT_LINES
        text = [*text[:MAX_OUTPUT_LINES], f"… {more} more line{'s' if more != 1 else ''}"]
    return ["# Output (from Jupyter):", *(f"# {line}".rstrip() for line in text)]


def _clean_lines(value: str) -> list[str]:
    lines = []
    text = _ANSI.sub("", value).replace("\r\n", "\n")
    # Only newlines end lines: a bare carriage return redraws one (progress bars keep the last).
    for raw in text.removesuffix("\n").split("\n") if text else []:
        line = _CONTROL.sub("", raw.rstrip("\r").rsplit("\r", 1)[-1]).rstrip()
        if len(line) > MAX_OUTPUT_LINE_CHARS:
            line = line[:MAX_OUTPUT_LINE_CHARS] + "…"
        lines.append(line)
    return lines


def _compile(code: str) -> CellImpl | None:
    """marimo's compiled cell (defs, refs, variable kinds), or None when it does not parse."""
    from marimo._ast.compiler import compile_cell
    from marimo._types.ids import CellId_t

    try:
        return compile_cell(code, cell_id=CellId_t("0"))
    except SyntaxError:
        return None


def _python_only(source: str) -> str | None:
    """A cell's own Python with magic and escape lines blanked, for comparing definitions."""
    lines = source.strip().split("\n")
    if lines and lines[0].startswith("%%"):
        name = lines[0][2:].split(maxsplit=1)[0] if lines[0][2:].strip() else ""
        if name not in _TIMING_CELL_MAGICS:
            return None
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")) and not stripped.startswith("!="):
            out.append(f"{indent}pass")
        else:
            out.append(line)
    return "\n".join(out)


def _find_renames(
    mapped: list[tuple[int | None, CellDef]],
    cells: list[dict[str, Any]],
    report: NotebookReport,
) -> None:
    """Names marimo renamed (``x`` → ``x_1``, or ``_x`` private to the cell) or removed."""
    for number, cell in mapped:
        if number is None:
            continue
        before_code = _python_only(_text(cells[number - 1]["source"]))
        before = _compile(before_code) if before_code is not None else None
        after = _compile(cell.code)
        if before is None or after is None:
            continue
        added = set(after.defs) - set(before.defs)
        for name in sorted(set(before.defs) - set(after.defs)):
            numbered = sorted(
                (n for n in added if re.fullmatch(rf"{re.escape(name)}_\d+", n)),
                key=lambda n: int(n.rsplit("_", 1)[1]),
            )
            if numbered:
                report.renamed.append(Rename(number, name, numbered[0]))
            elif re.search(rf"(?<![\w.])_{re.escape(name)}\b", cell.code):
                report.renamed.append(Rename(number, name, f"_{name}"))
            elif any(v.kind == "import" for v in before.variable_data.get(name, [])):
                report.removed_imports.append((number, name))


def _all_defs(mapped: list[tuple[int | None, CellDef]]) -> dict[str, list[int | None]]:
    defs: dict[str, list[int | None]] = {}
    for number, cell in mapped:
        compiled = _compile(cell.code)
        for name in compiled.defs if compiled is not None else ():
            defs.setdefault(name, []).append(number)
    return defs


def _new_cell(code: str) -> CellDef:
    from marimo._schemas.serialization import CellDef

    return CellDef(code=code, name=_DEFAULT_CELL_NAME, options={})


def _ensure_marimo_import(
    mapped: list[tuple[int | None, CellDef]],
) -> list[tuple[int | None, CellDef]]:
    """marimo adds ``import marimo as mo`` only for ``mo.md``/``mo.sql``; ``%html`` needs it too."""
    uses_mo = False
    for _, cell in mapped:
        compiled = _compile(cell.code)
        if compiled is not None and "mo" in compiled.defs:
            return mapped
        uses_mo = uses_mo or (compiled is not None and "mo" in compiled.refs)
    return [(None, _new_cell("import marimo as mo")), *mapped] if uses_mo else mapped


def _add_helpers(
    mapped: list[tuple[int | None, CellDef]], report: NotebookReport
) -> list[tuple[int | None, CellDef]]:
    defined = _all_defs(mapped)
    report.helpers_skipped = [n for n in HELPER_NAMES if n in defined]
    report.helpers_imported = [n for n in HELPER_NAMES if n not in defined]
    if not report.helpers_imported:
        return mapped
    names = "".join(f"    {name},\n" for name in report.helpers_imported)
    cell = _new_cell(f"from {HELPERS_MODULE} import (\n{names})")
    # After the imports marimo added (they come first), before the notebook's own cells.
    at = next((i for i, (number, _) in enumerate(mapped) if number is not None), len(mapped))
    return [*mapped[:at], (None, cell), *mapped[at:]]


def _conflicts(mapped: list[tuple[int | None, CellDef]]) -> dict[str, list[int]]:
    """Names still defined in more than one cell: marimo refuses to run such a notebook."""
    return {
        name: sorted(n for n in numbers if n is not None)
        for name, numbers in sorted(_all_defs(mapped).items())
        if len(numbers) > 1
    }


def _dependencies(header: str) -> list[str]:
    if "dependencies" not in header:
        return []
    from marimo._utils.inline_script_metadata import PyProjectReader

    try:
        return sorted(str(d) for d in PyProjectReader.from_script(header).dependencies)
    except Exception:  # a header marimo wrote but cannot read back: leave it out of the report
        return []


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
