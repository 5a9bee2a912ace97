"""Converting one notebook: marimo's converter, and what daglab does around it."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._migrate.reading import _Invalid, _text
from daglab._migrate.report import HELPERS_MODULE, Magic, NotebookReport, Rename

if TYPE_CHECKING:
    from marimo._ast.cell import CellImpl
    from marimo._schemas.serialization import CellDef

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

_MARKER = "__daglab_cell_"
_DEFAULT_CELL_NAME = "_"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ASSIGNED_ESCAPE = re.compile(r"^[\w.,\s\[\]()'\"]+?=\s*([!%])")
_HELP_SYNTAX = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)$")
_TIMING_CELL_MAGICS = ("time", "timeit")


@dataclass
class Converted:
    """A converted notebook: the marimo source and what the conversion did."""

    source: str
    report: NotebookReport


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
