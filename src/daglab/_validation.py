"""Checking what a person types into a notebook before it reaches Dagster.

``validate_yaml_config`` parses run-config YAML safely (no tags, no code) and reports where it
is wrong; ``sanitize_input`` cleans a value for the place it is used, or refuses it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from daglab._errors import DaglabError, ValidationError

InputContext = Literal["name", "asset_key", "pattern", "tag", "text", "yaml"]

MAX_YAML_CHARS = 1_000_000
_LIMITS: dict[str, int] = {
    "name": 256,
    "asset_key": 1024,
    "pattern": 4096,
    "tag": 4096,
    "text": 10_000,
    "yaml": MAX_YAML_CHARS,
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_PART = re.compile(r"[A-Za-z0-9_\-]+")
_PATTERN = re.compile(r"[A-Za-z0-9_\-/*?\[\]!, ]+")


@dataclass(frozen=True)
class YamlCheck:
    """``ok`` and the parsed mapping, or the problem and its 1-based line."""

    ok: bool
    config: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "config": self.config, "problem": self.problem, "line": self.line}


def validate_yaml_config(
    text: str, schema: Callable[[dict[str, Any]], list[str]] | None = None
) -> YamlCheck:
    """Parse run-config YAML; ``schema`` (optional) returns problems for the parsed mapping."""
    if len(text) > MAX_YAML_CHARS:
        return YamlCheck(False, problem=f"longer than {MAX_YAML_CHARS:,} characters")
    import yaml  # defer for import performance

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        from daglab._config import yaml_problem

        line, problem = yaml_problem(exc)
        return YamlCheck(False, problem=f"not valid YAML: {problem}", line=line)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return YamlCheck(False, problem=f"run config must be a mapping, not {type(data).__name__}")
    if schema is not None:
        problems = schema(data)
        if problems:
            return YamlCheck(False, data, problem="; ".join(problems))
    return YamlCheck(True, data)


def _strip_controls(text: str, *, keep_newlines: bool) -> str:
    kept = "\n\t" if keep_newlines else ""
    return "".join(ch for ch in text if ch in kept or not unicodedata.category(ch).startswith("C"))


def sanitize_input(text: str, context: InputContext = "text") -> str:
    """Clean ``text`` for ``context``, or raise :class:`ValidationError` saying why not.

    - ``name``: a Dagster name (job, op, repository): letters, digits, underscores.
    - ``asset_key``: ``a/b/c`` of such parts (hyphens allowed).
    - ``pattern``: asset keys with ``*``, ``?``, ``[...]`` wildcards, comma-separated.
    - ``tag``: a tag value; ``text``: free text; ``yaml``: run-config text. Control characters
      are removed (newlines kept for ``yaml`` and ``text``).
    """
    if context not in _LIMITS:
        raise ValueError(f"unknown input context {context!r}")
    limit = _LIMITS[context]
    if len(text) > limit:
        raise ValidationError(f"{context} is longer than {limit:,} characters")
    multiline = context in ("yaml", "text")
    cleaned = _strip_controls(text, keep_newlines=multiline)
    if not multiline:
        cleaned = cleaned.strip()
    if context == "name" and not _NAME.fullmatch(cleaned):
        raise ValidationError(
            f"{text!r} is not a valid name",
            remediation="Use letters, digits and underscores, starting with a letter.",
        )
    if context == "asset_key":
        parts = cleaned.strip("/").split("/")
        if not all(_KEY_PART.fullmatch(p) for p in parts):
            raise ValidationError(
                f"{text!r} is not a valid asset key",
                remediation="Write asset keys as path parts joined by /, e.g. orders/daily.",
            )
        cleaned = "/".join(parts)
    if context == "pattern" and cleaned and not _PATTERN.fullmatch(cleaned):
        raise ValidationError(
            f"{text!r} is not an asset selection",
            remediation="Use asset keys and wildcards separated by commas, e.g. orders/*, sales.",
        )
    return cleaned


def check_input(text: str, context: InputContext = "text") -> tuple[str | None, str | None]:
    """``sanitize_input`` for a UI: ``(clean, None)`` or ``(None, problem)``; never raises."""
    try:
        return sanitize_input(text, context), None
    except DaglabError as exc:
        return None, str(exc)
