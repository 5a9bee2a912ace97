"""The subprocess that runs a sweep file: ``python -m daglab._sweep_child FILE``.

A sweep file is user code. It runs here, never in daglab's own process, so whatever it does
(``sys.exit``, an endless generator, printing) cannot decide daglab's exit code or its output.
Each config crosses back as one JSON line on the stream that was stdout; the file's own prints
go to stderr. The lines are ``{"item": {"label", "config", "partition"}}`` per config, then either
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


#: The keys of a config that names its partition: ``{"partition": ..., "config": ...}``.
_PARTITIONED_KEYS = frozenset({"partition", "config", "label"})


def _partition_of(value: Any, index: int) -> str:
    """A partition as a string: a key, or a mapping of dimension to key (``dim=key,...``)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping) and value:
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()):
            raise _Invalid("a partition mapping must map dimension names to keys (strings)", index)
        return ",".join(f"{k}={v}" for k, v in value.items())
    raise _Invalid(
        "partition must be a key (a non-empty string) or a mapping of dimension to key,"
        f" not {type(value).__name__}",
        index,
    )


def _emit_item(out: TextIO, index: int, value: Any) -> None:
    label = f"#{index}"
    if _is_pair(value):
        label, value = value
    if not isinstance(value, Mapping):
        raise _Invalid(f"a run config must be a mapping, not {type(value).__name__}", index)
    partition = None
    if "partition" in value:  # no run config has a top-level "partition"
        extra = sorted(str(k) for k in value if k not in _PARTITIONED_KEYS)
        if extra:
            raise _Invalid(
                "a config with a partition has the keys partition, config and label only;"
                f" found {', '.join(extra)} (put the run config under 'config')",
                index,
            )
        partition = _partition_of(value["partition"], index)
        if "label" in value:
            if not isinstance(value["label"], str):
                raise _Invalid("label must be a string", index)
            label = value["label"]
        value = value.get("config") or {}
        if not isinstance(value, Mapping):
            raise _Invalid(f"'config' must be a mapping, not {type(value).__name__}", index)
    problem = _json_problem(dict(value), "")
    if problem:
        raise _Invalid(f"not JSON: {problem}", index)
    item = {"label": label, "config": dict(value), "partition": partition}
    out.write(json.dumps({"item": item}) + "\n")
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
