"""The read model of a workspace: the code locations of ``dg.toml`` or ``workspace.yaml``.

A *dg workspace* is a folder whose ``dg.toml`` says ``directory_type = "workspace"`` and lists
``[[workspace.projects]] path = …``; ``dg dev`` serves each project under its
``[tool.dg.project] code_location_name``, else the name of its folder (as dagster-dg-core's
``DgContext.code_location_name`` does). Anything else uses ``workspace.yaml`` (or ``.yml``),
whose entries ``dagster dev -w`` names by ``location_name``, else the module, package or file.
When a folder holds both, dg.toml is the one in use. Reading never imports Dagster.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from daglab import _project
from daglab._errors import EnvironmentMissingError, ValidationError
from daglab._workspace import markers as _markers

WORKSPACE_YAML_NAMES = ("workspace.yaml", "workspace.yml")
DG_TOML = "dg.toml"

_TOML_PROJECT_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*workspace[ \t]*\.[ \t]*projects[ \t]*\]\]")
_YAML_LOAD_FROM = re.compile(r"^load_from[ \t]*:")
_YAML_ITEM = re.compile(r"^(?P<indent>[ \t]*)-(?:[ \t]|$)")


@dataclass(frozen=True)
class Location:
    """One code location of a workspace, by the name Dagster serves it under.

    ``path`` is the project folder (for a ``python_file`` entry: the file), absolute; ``None``
    for a gRPC server. ``managed``: the entry sits inside daglab's marker comments.
    """

    name: str
    kind: Literal["project", "module", "file", "grpc"]
    path: Path | None
    module: str | None
    grpc: tuple[str, int] | None
    executable: Path | None
    managed: bool


@dataclass(frozen=True)
class Workspace:
    """A workspace file and its locations, in the order Dagster loads them."""

    root: Path
    kind: Literal["dg", "yaml"]
    file: Path
    locations: tuple[Location, ...]

    def location(self, name: str) -> Location | None:
        return next((loc for loc in self.locations if loc.name == name), None)

    def shown(self, path: Path | None) -> str | None:
        """``path`` relative to the root when inside it (POSIX), else as is."""
        if path is None:
            return None
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: the file, and each location with paths relative to the root."""
        return {
            "root": str(self.root),
            "kind": self.kind,
            "file": str(self.file),
            "locations": [
                {
                    "name": loc.name,
                    "kind": loc.kind,
                    "path": self.shown(loc.path),
                    "module": loc.module,
                    "grpc": {"host": loc.grpc[0], "port": loc.grpc[1]} if loc.grpc else None,
                    "executable": str(loc.executable) if loc.executable else None,
                    "managed": loc.managed,
                }
                for loc in self.locations
            ],
        }


@dataclass(frozen=True)
class Change:
    """What an edit did (or, with ``dry_run``, would do): ``diff`` is a unified diff."""

    changed: bool
    message: str
    file: Path | None = None
    diff: str = ""
    backup: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "message": self.message,
            "file": str(self.file) if self.file else None,
            "diff": self.diff,
            "backup": str(self.backup) if self.backup else None,
        }


@dataclass(frozen=True)
class Entry:
    """A location with where it sits in the file: ``line`` is its first line (0-based)."""

    location: Location
    line: int | None
    raw: dict[str, Any]
    block: _markers.Block | None


@dataclass(frozen=True)
class Parsed:
    """A workspace file read both ways: as data, and as lines with daglab's markers."""

    workspace: Workspace
    text: str
    markers: _markers.Markers
    entries: tuple[Entry, ...]
    data: dict[str, Any]
    #: daglab's blocks that belong to no entry (what they were about is gone).
    orphans: tuple[_markers.Block, ...] = ()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)


def absolute_path(root: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else root / path))


def is_dg_workspace_file(path: Path) -> bool:
    if not path.is_file():
        return False
    config = _project._read_toml(path)
    return config.get("directory_type") == "workspace" or isinstance(config.get("workspace"), dict)


def _workspace_file(folder: Path) -> Path | None:
    if is_dg_workspace_file(folder / DG_TOML):
        return folder / DG_TOML
    for name in WORKSPACE_YAML_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def find_workspace(start: Path) -> Workspace | None:
    """The nearest workspace at or above ``start`` (a folder or file), up to the git root."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    stop = _project.find_git_root(start) or Path(start.anchor)
    for folder in (start, *start.parents):
        found = _workspace_file(folder)
        if found is not None:
            return load_workspace(found)
        if folder == stop:
            break
    return None


def load_workspace(path: Path) -> Workspace:
    """The workspace of ``path``: a workspace folder, or its dg.toml / workspace.yaml."""
    return parse(path).workspace


def parse(path: Path) -> Parsed:
    path = path.resolve()
    file = _workspace_file(path) if path.is_dir() else path
    if file is None or not file.is_file():
        raise EnvironmentMissingError(
            f'no workspace at {path}: neither a dg.toml with directory_type = "workspace" '
            "nor a workspace.yaml",
            remediation="Run `create-dagster workspace`, or `daglab workspace add PATH` inside "
            "a folder holding workspace.yaml.",
            path=str(path),
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{file}: not UTF-8 text", remediation=f"Save {file.name} as UTF-8."
        ) from exc
    lines = text.splitlines(keepends=True)
    found = _markers.scan(lines)
    if file.name == DG_TOML:
        data = _project.read_pyproject(file)
        entries, orphans = _dg_entries(file.parent, data, lines, found)
        kind: Literal["dg", "yaml"] = "dg"
    else:
        data = _yaml_data(file, text)
        entries = _yaml_entries(file.parent, data, lines, found)
        owned = {entry.block for entry in entries if entry.block is not None}
        orphans = [block for block in found.blocks if block not in owned]
        kind = "yaml"
    workspace = Workspace(
        root=file.parent,
        kind=kind,
        file=file,
        locations=tuple(entry.location for entry in entries),
    )
    return Parsed(workspace, text, found, tuple(entries), data, tuple(orphans))


def dg_project_location(
    root: Path, path: Path, *, managed: bool, executable: Path | None = None
) -> Location:
    """A dg workspace's project at ``path``: served under its code_location_name or folder."""
    pyproject = _project._read_toml(path / "pyproject.toml")
    table = _project._dg_project_table(path, pyproject)
    root_module = table.get("root_module")
    module = None
    if root_module:
        module = str(table.get("code_location_target_module") or f"{root_module}.definitions")
    return Location(
        name=_project._dg_location_name(path, table),
        kind="project",
        path=path,
        module=module,
        grpc=None,
        executable=executable,
        managed=managed,
    )


def _dg_entries(
    root: Path, data: dict[str, Any], lines: list[str], found: _markers.Markers
) -> tuple[list[Entry], list[_markers.Block]]:
    """The entries of a dg.toml, and daglab's blocks that belong to none (orphans)."""
    workspace = data.get("workspace")
    raw_projects = workspace.get("projects", []) if isinstance(workspace, dict) else []
    projects = (
        [p for p in raw_projects if isinstance(p, dict)] if isinstance(raw_projects, list) else []
    )
    headers = [i for i, line in enumerate(lines) if _TOML_PROJECT_HEADER.match(line)]
    if len(headers) != len(projects):  # an inline array: no line to tie an entry to
        headers = []
    # A block with no entry of its own annotates the hand-written project of its name (a note).
    notes = {
        block.name: block
        for block in found.blocks
        if block.option("grpc") is None and not any(block.contains(h) for h in headers)
    }
    entries: list[Entry] = []
    orphans = dict(notes)
    for index, raw in enumerate(projects):
        if not isinstance(raw.get("path"), str):
            continue
        line = headers[index] if headers else None
        block = found.block_of(line) if line is not None else None
        location = dg_project_location(root, absolute_path(root, raw["path"]), managed=bool(block))
        note = block or notes.get(location.name)
        if block is None and note is not None:
            orphans.pop(location.name, None)
        executable = note.option("executable") if note else None
        if executable:
            location = replace(location, executable=absolute_path(root, executable))
        entries.append(Entry(location, line, raw, block))
    for block in found.blocks:
        grpc = block.option("grpc")
        if grpc is None or any(block.contains(h) for h in headers):
            continue
        location = Location(
            name=block.name,
            kind="grpc",
            path=None,
            module=None,
            grpc=_markers.parse_grpc(grpc),
            executable=None,
            managed=True,
        )
        entries.append(Entry(location, block.start, {"grpc": grpc}, block))
    ordered = sorted(entries, key=lambda e: -1 if e.line is None else e.line)
    return ordered, list(orphans.values())


def _yaml_data(file: Path, text: str) -> dict[str, Any]:
    import yaml  # defer for import performance

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(
            f"{file}: not valid YAML: {exc}",
            remediation=f"Fix the syntax of {file.name} at the position shown.",
            path=str(file),
        ) from exc
    if not isinstance(data, dict):
        raise ValidationError(
            f"{file}: expected a mapping with a load_from list",
            remediation=f"Start {file.name} with `load_from:` and a list of locations.",
            path=str(file),
        )
    return data


def yaml_item_lines(lines: list[str]) -> tuple[list[int], str | None, int | None]:
    """The first line of each ``load_from`` item, the items' indent, and the line of
    ``load_from:`` itself (None when the file has none)."""
    start = next((i for i, line in enumerate(lines) if _YAML_LOAD_FROM.match(line)), None)
    if start is None:
        return [], None, None
    items: list[int] = []
    indent: str | None = None
    for index in range(start + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        item = _YAML_ITEM.match(line)
        if indent is None and item:
            indent = item["indent"]
        if item and item["indent"] == indent:
            items.append(index)
        elif not line[:1].isspace():
            break
    return items, indent, start


def _project_folder(root: Path, folder: Path) -> Path:
    """The folder at or above ``folder`` (inside ``root``) with a pyproject.toml, else itself."""
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
        if candidate == root or not candidate.is_relative_to(root):
            break
    return folder


def _yaml_location(root: Path, raw: dict[str, Any], managed: bool) -> Location | None:
    grpc = raw.get("grpc_server")
    if isinstance(grpc, dict):
        host = str(grpc.get("host") or "localhost")
        port = grpc.get("port")
        where = grpc.get("socket") or port
        return Location(
            name=str(grpc.get("location_name") or f"grpc:{host}:{where}"),
            kind="grpc",
            path=None,
            module=None,
            grpc=(host, port) if isinstance(port, int) else None,
            executable=None,
            managed=managed,
        )
    code = _project._code_entry("", raw)
    if code is None:
        return None
    spec = next(raw[k] for k in ("python_module", "python_package", "python_file") if k in raw)
    executable = spec.get("executable_path") if isinstance(spec, dict) else None
    working = absolute_path(root, code.working_directory) if code.working_directory else root
    if code.relative_path is not None:
        kind: Literal["module", "file"] = "file"
        path = absolute_path(root, code.relative_path)
    else:
        kind = "module"
        path = _project_folder(root, working)
    return Location(
        name=code.served_name,
        kind=kind,
        path=path,
        module=code.module,
        grpc=None,
        executable=Path(executable).expanduser() if isinstance(executable, str) else None,
        managed=managed,
    )


def _yaml_entries(
    root: Path, data: dict[str, Any], lines: list[str], found: _markers.Markers
) -> list[Entry]:
    raw_entries = data.get("load_from")
    raw_list = raw_entries if isinstance(raw_entries, list) else []
    items, _indent, _start = yaml_item_lines(lines)
    if len(items) != len(raw_list):  # a flow-style list: no line to tie an entry to
        items = []
    entries = []
    for index, raw in enumerate(raw_list):
        line = items[index] if items else None
        block = found.block_of(line) if line is not None else None
        location = _yaml_location(root, raw, block is not None) if isinstance(raw, dict) else None
        if location is not None:
            entries.append(Entry(location, line, raw, block))
    return entries
