"""Dagster project folders on disk: which folders are projects, and what code each one serves.

A project is a folder whose pyproject.toml has a ``[tool.dg.project]`` table with a
``root_module`` (what ``create-dagster project`` writes) or ``[tool.dagster] module_name``.
A dg deployment or workspace folder is not one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daglab import _project

#: Folders never searched for projects: environments, caches and daglab's own state.
_SKIP = {".venv", "venv", "node_modules", "__pycache__", ".git", ".daglab", "build", "dist"}
#: How deep below the workspace root project folders are looked for (``projects/NAME`` is 2).
MAX_DEPTH = 3


@dataclass(frozen=True)
class ProjectCode:
    """What a project serves: its module, the folder it imports from, its location name."""

    folder: Path
    module: str
    working_directory: Path
    name: str
    dg: bool

    @property
    def venv_python(self) -> Path | None:
        """The project's own interpreter (``.venv/bin/python``), when it has one."""
        python = self.folder / ".venv" / "bin" / "python"
        return python if python.exists() else None


def project_code(folder: Path, pyproject: dict[str, Any] | None = None) -> ProjectCode | None:
    """The code a Dagster project at ``folder`` serves, or None when it is not a project
    (``pyproject``: its pyproject.toml, when the caller has read it already)."""
    if pyproject is None:
        pyproject = _project._read_toml(folder / "pyproject.toml")
    if not pyproject:
        return None
    table = _project._dg_project_table(folder, pyproject)
    root_module = table.get("root_module")
    if root_module:
        base = folder / "src" if (folder / "src").exists() else folder
        return ProjectCode(
            folder=folder,
            module=str(table.get("code_location_target_module") or f"{root_module}.definitions"),
            working_directory=base,
            name=_project._dg_location_name(folder, table),
            dg=True,
        )
    dagster_tool = pyproject.get("tool", {}).get("dagster", {})
    module = dagster_tool.get("module_name") if isinstance(dagster_tool, dict) else None
    if not module:
        return None
    working = dagster_tool.get("working_directory")
    top = str(module).split(".")[0]
    package_dir = _project._package_dir(folder, top, working)
    base = package_dir.parent if package_dir is not None else folder
    return ProjectCode(
        folder=folder,
        module=str(module),
        working_directory=base,
        name=str(dagster_tool.get("code_location_name") or module),
        dg=False,
    )


def project_folders(root: Path, *, max_depth: int = MAX_DEPTH) -> list[Path]:
    """Every Dagster project folder below ``root`` (not ``root`` itself), sorted.

    A project's own subfolders are not searched: a project does not nest another.
    """
    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        folder = Path(current)
        depth = len(folder.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        if folder != root and "pyproject.toml" in files and project_code(folder) is not None:
            found.append(folder)
            dirs[:] = []
        elif depth >= max_depth:
            dirs[:] = []
    return sorted(found)
