"""Reading a Jupyter notebook and checking it is nbformat 4 before anything converts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class _Invalid(Exception):
    """Why one source cannot be migrated (collected, then raised as one ValidationError)."""


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
