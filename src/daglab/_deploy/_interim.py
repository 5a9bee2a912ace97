"""Stand-in for ``daglab._workspace`` and ``daglab._modules`` until they land (to be removed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Location:
    name: str
    kind: Literal["project", "module", "file", "grpc"]
    path: Path | None
    module: str | None
    grpc: tuple[str, int] | None = None
    executable: Path | None = None
    managed: bool = False


@dataclass(frozen=True)
class Workspace:
    root: Path
    kind: Literal["dg", "yaml"]
    file: Path
    locations: tuple[Location, ...]


def find_workspace(start: Path) -> Workspace | None:
    from daglab._project import _dg_location_name, _dg_project_table, _read_toml

    for folder in (start.resolve(), *start.resolve().parents):
        dg_toml = folder / "dg.toml"
        if not dg_toml.is_file():
            continue
        data = _read_toml(dg_toml)
        if data.get("directory_type") != "workspace":
            continue
        locations = []
        for entry in data.get("workspace", {}).get("projects", []):
            project = folder / str(entry["path"])
            table = _dg_project_table(project, _read_toml(project / "pyproject.toml"))
            module = table.get("code_location_target_module") or (
                f"{table.get('root_module')}.definitions"
            )
            locations.append(
                Location(_dg_location_name(project, table), "project", project, module)
            )
        return Workspace(folder, "dg", dg_toml, tuple(locations))
    return None


@dataclass(frozen=True)
class ModuleMeta:
    port: int | None
    env: tuple[str, ...]


def read_module_meta(project: Path) -> ModuleMeta | None:
    from daglab._project import _read_toml

    table = _read_toml(project / "pyproject.toml").get("tool", {}).get("daglab", {}).get("module")
    if not isinstance(table, dict):
        return None
    return ModuleMeta(table.get("port"), tuple(table.get("env", ())))
