"""The workspace a module belongs to, read through ``daglab._workspace``.

A module made inside a workspace (``dg.toml`` or ``workspace.yaml``) goes under its
``projects/`` folder, as ``create-dagster project`` puts one, and is registered there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daglab._workspace import Workspace

#: Where ``create-dagster workspace`` keeps projects, and so where daglab puts new modules.
PROJECTS_DIR = "projects"


def find(start: Path, explicit: Path | None = None) -> Workspace | None:
    """The workspace named by ``--workspace``, else the nearest one around ``start``."""
    from daglab._workspace import find_workspace, load_workspace

    if explicit is not None:
        return load_workspace(explicit)
    return find_workspace(start)


def module_folders(workspace: Workspace | None, *, exclude: Path | None = None) -> list[Path]:
    """Every registered project folder and every project folder on disk in the workspace (it
    may be a module nobody registered yet), ``exclude`` left out."""
    if workspace is None:
        return []
    from daglab._workspace.projects import project_folders

    found: dict[Path, None] = {}
    for location in workspace.locations:
        if location.path is not None:
            found[location.path.resolve()] = None
    for folder in project_folders(workspace.root):
        found[folder.resolve()] = None
    skip = exclude.resolve() if exclude is not None else None
    return [folder for folder in found if folder != skip]


def grpc_ports(workspace: Workspace | None) -> Iterator[int]:
    """Ports of the workspace's gRPC entries (a code server someone already runs there)."""
    if workspace is None:
        return
    for location in workspace.locations:
        if location.grpc is not None:
            yield location.grpc[1]


def register(workspace: Workspace, project: Path, *, dry_run: bool = False) -> tuple[bool, str]:
    """Register ``project`` in ``workspace`` (idempotent): (changed, message)."""
    from daglab._workspace import register_project

    change = register_project(workspace, project, dry_run=dry_run)
    return change.changed, change.message
