"""``[tool.daglab.module]``: what a module daglab generated records about itself.

The table lives in the module's own ``pyproject.toml``, so it travels with the code (deploy and
audit read it; ``daglab module update`` renders the templates again from it)::

    [tool.daglab.module]
    name = "alpha"                  # the name given to `daglab module new`
    template = "standard"           # minimal | standard | ml
    addons = ["postgres", "schedule"]
    port = 4001                     # its code-server port (dagster code-server start / api grpc)
    env = ["ALPHA_POSTGRES_URL"]    # environment variables it needs at run time (never values)
    cron = "0 6 * * *"              # the schedule addon's answers, when it has one
    timezone = "Europe/Paris"
    daglab_version = "x.y.z"

Only names are recorded, never a value of an environment variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daglab._errors import ConfigError

#: The templates and addons a module can be made of.
TEMPLATES: tuple[str, ...] = ("minimal", "standard", "ml")
ADDONS: tuple[str, ...] = ("postgres", "mysql", "schedule")

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


@dataclass(frozen=True)
class ModuleMeta:
    """The ``[tool.daglab.module]`` table of one module, checked."""

    template: str
    addons: tuple[str, ...] = ()
    port: int | None = None
    env: tuple[str, ...] = ()
    daglab_version: str | None = None
    name: str | None = None
    cron: str | None = None
    timezone: str | None = None

    def to_table(self) -> dict[str, Any]:
        """The table as TOML values (keys without a value are left out)."""
        table: dict[str, Any] = {}
        if self.name is not None:
            table["name"] = self.name
        table["template"] = self.template
        table["addons"] = list(self.addons)
        if self.port is not None:
            table["port"] = self.port
        table["env"] = list(self.env)
        if self.cron is not None:
            table["cron"] = self.cron
        if self.timezone is not None:
            table["timezone"] = self.timezone
        if self.daglab_version is not None:
            table["daglab_version"] = self.daglab_version
        return table


def read_module_meta(project: Path) -> ModuleMeta | None:
    """The module table of ``project/pyproject.toml``, or None when daglab did not make it.

    Raises :class:`ConfigError` (exit 7) for a malformed pyproject.toml or a table whose values
    are of the wrong type or unknown (a template or addon daglab does not have).
    """
    from daglab._project import read_pyproject

    path = project / "pyproject.toml"
    if not path.is_file():
        return None
    data = read_pyproject(path)
    tool = data.get("tool")
    daglab = tool.get("daglab") if isinstance(tool, dict) else None
    table = daglab.get("module") if isinstance(daglab, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _bad(path, "[tool.daglab.module] is not a table")
    return meta_from_table(table, source=path)


def meta_from_table(table: dict[str, Any], *, source: Path) -> ModuleMeta:
    """Check and convert a ``[tool.daglab.module]`` table (``source`` names it in errors)."""
    template = table.get("template")
    if template not in TEMPLATES:
        raise _bad(source, f"template = {template!r} is not one of {', '.join(TEMPLATES)}")
    addons = _strings(table, "addons", source)
    unknown = sorted(set(addons) - set(ADDONS))
    if unknown:
        raise _bad(source, f"addons: unknown {', '.join(unknown)} (known: {', '.join(ADDONS)})")
    port = table.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        raise _bad(source, f"port = {port!r} is not a port number (1-65535)")
    env = _strings(table, "env", source)
    for name in env:
        if not _ENV_NAME.match(name):
            raise _bad(source, f"env: {name!r} is not an environment variable name")
    return ModuleMeta(
        template=template,
        addons=addons,
        port=port,
        env=env,
        daglab_version=_optional_string(table, "daglab_version", source),
        name=_optional_string(table, "name", source),
        cron=_optional_string(table, "cron", source),
        timezone=_optional_string(table, "timezone", source),
    )


def _strings(table: dict[str, Any], key: str, source: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(source, f"{key} = {value!r} is not a list of strings")
    return tuple(value)


def _optional_string(table: dict[str, Any], key: str, source: Path) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(source, f"{key} = {value!r} is not a string")
    return value


def _bad(source: Path, what: str) -> ConfigError:
    return ConfigError(
        f"{source}: [tool.daglab.module] {what}",
        remediation="Fix the table (see docs/guides/modules.md), or run `daglab module new"
        " --force` to write it again.",
        path=str(source),
    )
