"""The subprocess that runs a sweep file: ``python -m daglab._sweep_child FILE``.

A sweep file is user code. It runs here, never in daglab's own process, so whatever it does
(``sys.exit``, an endless generator, printing) cannot decide daglab's exit code or its output.
Each config crosses back as one JSON line on the stream that was stdout; the file's own prints
go to stderr. The lines are ``{"item": {"label", "config"}}`` per config, then either
``{"done": true}`` or ``{"error": reason, "index": i}``. Only the standard library is imported.
"""

from __future__ import annotations

import json
import math
import os
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO


class _Invalid(Exception):
    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


def _json_problem(value: Any, where: str) -> str | None:
    """Why ``value`` cannot travel as JSON (naming the key path), or None."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value}, which JSON cannot hold"
    if isinstance(value, list | tuple):
        for i, element in enumerate(value):
            problem = _json_problem(element, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        for key, element in value.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r} ({type(key).__name__}); keys must be strings"
            problem = _json_problem(element, f"{where}.{key}" if where else key)
            if problem:
                return problem
        return None
    return f"{where or 'the config'} is a {type(value).__name__}, which is not JSON"


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)


def _emit_item(out: TextIO, index: int, value: Any) -> None:
    label = f"#{index}"
    if _is_pair(value):
        label, value = value
    if not isinstance(value, Mapping):
        raise _Invalid(f"a run config must be a mapping, not {type(value).__name__}", index)
    problem = _json_problem(dict(value), "")
    if problem:
        raise _Invalid(f"not JSON: {problem}", index)
    out.write(json.dumps({"item": {"label": label, "config": dict(value)}}) + "\n")
    out.flush()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "was interrupted"
    return f"raised {type(exc).__name__}: {exc}"


def _produce(path: Path, out: TextIO) -> None:
    sys.path.insert(0, str(path.parent))  # as when the file runs as a script
    try:
        namespace = runpy.run_path(str(path), run_name="__daglab_sweep__")
    except BaseException as exc:
        raise _Invalid(f"the file {_describe(exc)}") from exc
    if "config_gen" in namespace:
        generator = namespace["config_gen"]
        if not callable(generator):
            raise _Invalid("config_gen is not callable")
        index = 0
        try:
            for value in generator():
                _emit_item(out, index, value)
                index += 1
        except _Invalid:
            raise
        except BaseException as exc:
            raise _Invalid(f"config_gen {_describe(exc)}", index) from exc
        count = index
    elif "CONFIG" in namespace:
        raw = namespace["CONFIG"]
        values = raw if isinstance(raw, list | tuple) and not _is_pair(raw) else [raw]
        for index, value in enumerate(values):
            _emit_item(out, index, value)
        count = len(values)
    else:
        raise _Invalid("defines neither CONFIG nor config_gen")
    if not count:
        raise _Invalid("produced no run configs")


def main(argv: list[str]) -> int:
    # The protocol keeps the real stdout; fd 1 (and sys.stdout) become stderr for the file.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        _produce(Path(argv[0]), out)
    except _Invalid as exc:
        out.write(json.dumps({"error": exc.reason, "index": exc.index}) + "\n")
        out.flush()
        return 0
    except BrokenPipeError:  # daglab stopped reading (the cap was reached): nothing to say
        return 0
    out.write(json.dumps({"done": True}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
