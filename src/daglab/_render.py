"""The one Jinja environment daglab renders every template with.

Values reach generated code as Python literals (the ``pyrepr`` filter), never as raw text, so a
title or template variable cannot inject code into a generated file.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATES_PACKAGE = "daglab"


def _defined(value: Any) -> Any:
    """Make a missing template variable fail as Jinja's StrictUndefined does, not as TypeError."""
    import jinja2  # defer for import performance

    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def _pyrepr(value: Any) -> str:
    """Render a value as a Python literal, quoted the way ruff and black format strings.

    JSON string escapes are a subset of Python's, so ``json.dumps`` of a string is a valid
    Python literal for any text, quotes, backslashes and newlines included.
    """
    value = _defined(value)
    if isinstance(value, str):
        if value.count('"') > value.count("'"):
            return repr(value)  # single quotes, as formatters choose to avoid escapes
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_pyrepr(item) for item in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_pyrepr(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        pairs = ", ".join(f"{_pyrepr(k)}: {_pyrepr(v)}" for k, v in value.items())
        return "{" + pairs + "}"
    return repr(value)


def _tojson(value: Any) -> str:
    return json.dumps(_defined(value), sort_keys=True)


def _tomlstr(value: Any) -> str:
    """A TOML basic string (JSON string escaping is valid TOML)."""
    return json.dumps(str(_defined(value)))


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2  # defer for import performance

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATES_PACKAGE, "_templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701  renders Python/TOML/YAML, not HTML
    )
    env.filters["pyrepr"] = _pyrepr
    env.filters["tojson"] = _tojson
    env.filters["tomlstr"] = _tomlstr
    return env


def render(name: str, /, **context: Any) -> str:
    """Render ``src/daglab/_templates/<name>`` with ``context``."""
    import jinja2  # defer for import performance

    from daglab._errors import TemplateError

    try:
        return environment().get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {name!r} failed to render: {exc}") from exc
