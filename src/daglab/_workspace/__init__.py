"""One view over a workspace's code locations, in dg.toml or workspace.yaml, and daglab's edits
of it (see ``markers`` for how daglab marks its entries)."""

from __future__ import annotations

from daglab._workspace.edit import add_grpc, register_project, remove_location, sync
from daglab._workspace.model import Change, Location, Workspace, find_workspace, load_workspace
from daglab._workspace.validate import Problem, validate

__all__ = [
    "Change",
    "Location",
    "Problem",
    "Workspace",
    "add_grpc",
    "find_workspace",
    "load_workspace",
    "register_project",
    "remove_location",
    "sync",
    "validate",
]
