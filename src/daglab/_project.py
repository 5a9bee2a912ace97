"""Find the project daglab works in: its root, its Dagster markers, its code package and location.

daglab never creates a package named ``dagster``: it would shadow the library for any code run
from the project root. Notebooks default to ``<code package>/notebooks``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: Dagster names the repository of a ``Definitions`` object this way.
DEFAULT_REPOSITORY_NAME = "__repository__"

MARKER_FILES = ("workspace.yaml", "workspace.yml", "dagster.yaml", "dg.toml", "daglab.yaml")


@dataclass(frozen=True)
class Project:
    """A folder that holds Dagster code (or will, after ``daglab init --bootstrap``)."""

    root: Path
    markers: tuple[str, ...] = ()
    kind: str = "none"
    package: str | None = None
    package_dir: Path | None = None
    #: Every code location ``dagster dev`` (``dg dev`` in a dg project) serves from here, under
    #: the name it serves it; ``location_name`` is the first.
    locations: tuple[str, ...] = ()
    git_root: Path | None = None
    pyproject: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_dagster_project(self) -> bool:
        return self.kind != "none"

    @property
    def location_name(self) -> str | None:
        return self.locations[0] if self.locations else None

    @property
    def repository_name(self) -> str:
        return DEFAULT_REPOSITORY_NAME

    @property
    def daglab_dir(self) -> Path:
        return self.root / ".daglab"

    def default_notebooks_dir(self) -> Path:
        """Where notebooks go when nothing is configured (see the module docstring)."""
        if self.package_dir is not None:
            return self.package_dir / "notebooks"
        plain = self.root / "dagster"
        if plain.is_dir() and not (plain / "__init__.py").exists():
            return plain / "notebooks"
        return self.root / "notebooks"

    @property
    def package_base(self) -> Path | None:
        """The folder the code package imports from (``src`` for ``src/pkg``), if known."""
        if self.package_dir is None or not self.package:
            return None
        return self.package_dir.parents[len(self.package.split(".")) - 1]

    def import_roots(self) -> list[Path]:
        """Folders to put on ``sys.path`` so the code package imports: its base and the root."""
        roots = [] if self.package_base is None else [self.package_base]
        if self.root not in roots:
            roots.append(self.root)
        return roots

    def relative(self, path: Path) -> str:
        """``path`` relative to the root when inside it, in POSIX form."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix() or "."
        except ValueError:
            return str(path)

    def contains(self, path: Path) -> bool:
        """True when ``path`` (symlinks resolved) lies inside the project root."""
        try:
            path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return False
        return True


def find_git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def read_pyproject(path: Path) -> dict[str, Any]:
    """Parse ``pyproject.toml``; a malformed file is a configuration error naming the file."""
    from daglab._errors import ConfigError

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML: {exc}",
            remediation=f"Fix the syntax of {path.name} at the position shown.",
        ) from exc


def _dagster_markers(folder: Path, pyproject: dict[str, Any]) -> list[str]:
    markers = [name for name in MARKER_FILES if (folder / name).is_file()]
    tool = pyproject.get("tool", {})
    if "dg" in tool:
        markers.insert(0, "pyproject.toml [tool.dg]")
    if "dagster" in tool:
        markers.insert(0, "pyproject.toml [tool.dagster]")
    deps = " ".join(str(d) for d in pyproject.get("project", {}).get("dependencies", []))
    if re.search(r"(^|\s|\")dagster\b", deps) and not any(
        m.startswith("pyproject") for m in markers
    ):
        markers.append("pyproject.toml (depends on dagster)")
    return markers


def find_project(start: Path | None = None) -> Project:
    """The closest folder at or above ``start`` (up to the git root) with a Dagster marker.

    A folder with only ``daglab.yaml`` counts when no Dagster marker is found; without any marker
    the result is a ``kind="none"`` project rooted at ``start``.
    """
    start = (start or Path.cwd()).resolve()
    git_root = find_git_root(start)
    stop = git_root or Path(start.anchor)
    fallback: Project | None = None
    for folder in (start, *start.parents):
        pyproject = read_pyproject(folder / "pyproject.toml")
        markers = _dagster_markers(folder, pyproject)
        if any(marker != "daglab.yaml" for marker in markers):
            return _describe(folder, markers, pyproject, git_root)
        if markers and fallback is None:
            fallback = _describe(folder, markers, pyproject, git_root)
        if folder == stop:
            break
    return fallback or Project(root=start, git_root=git_root)


def _describe(
    root: Path, markers: list[str], pyproject: dict[str, Any], git_root: Path | None
) -> Project:
    tool = pyproject.get("tool", {})
    dg_project = _dg_project_table(root, pyproject)
    dagster_tool = tool.get("dagster", {})
    project_name = pyproject.get("project", {}).get("name")
    package: str | None = None
    package_dir: Path | None = None
    kind = "none"

    if _dg_workspace_projects(root, pyproject) is not None:
        kind = "dg-workspace"
    if dg_project.get("root_module"):
        kind = "dg-project"
        package = str(dg_project["root_module"])
    elif dagster_tool.get("module_name"):
        kind = "dagster-project"
        package = str(dagster_tool["module_name"]).split(".")[0]
    else:
        found = _from_workspace_yaml(root)
        if found is not None:
            kind = "workspace"
            package, package_dir = found
        elif kind == "none" and any(m != "daglab.yaml" for m in markers):
            kind = "dagster-project" if any("pyproject" in m for m in markers) else "workspace"

    if package == "dagster":
        package = None  # the library itself, never a code package of ours
    if package is not None and package_dir is None:
        package_dir = _package_dir(root, package, dagster_tool.get("working_directory"))
    if package is None and project_name:
        guess = re.sub(r"[^0-9A-Za-z_]", "_", str(project_name)).lower()
        if guess != "dagster":
            package_dir = _package_dir(root, guess, None)
            if package_dir is not None:
                package = guess
    return Project(
        root=root,
        markers=tuple(markers),
        kind=kind,
        package=package,
        package_dir=package_dir,
        locations=served_locations(root, pyproject),
        git_root=git_root,
        pyproject=pyproject,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_pyproject(path)
    except Exception:  # a broken file of a workspace member: it serves nothing we can name
        return {}


def _dg_config(root: Path, pyproject: dict[str, Any]) -> dict[str, Any]:
    """dg's configuration of ``root``: ``dg.toml`` (top level) wins over ``[tool.dg]``."""
    dg_toml = root / "dg.toml"
    if dg_toml.is_file():
        return _read_toml(dg_toml)
    dg = pyproject.get("tool", {}).get("dg", {})
    return dg if isinstance(dg, dict) else {}


def _dg_project_table(root: Path, pyproject: dict[str, Any]) -> dict[str, Any]:
    table = _dg_config(root, pyproject).get("project", {})
    return table if isinstance(table, dict) else {}


def _dg_workspace_projects(root: Path, pyproject: dict[str, Any]) -> list[Path] | None:
    """The project folders of a dg workspace at ``root``, or None when it is not one."""
    config = _dg_config(root, pyproject)
    workspace = config.get("workspace")
    if config.get("directory_type") != "workspace" and not isinstance(workspace, dict):
        return None
    entries = workspace.get("projects", []) if isinstance(workspace, dict) else []
    return [
        root / str(entry["path"])
        for entry in entries
        if isinstance(entry, dict) and entry.get("path")
    ]


def _dg_location_name(root: Path, table: dict[str, Any]) -> str:
    """``dg dev``'s name for the project at ``root``: its ``code_location_name``, else the name
    of its folder (dagster-dg-core's ``DgContext.code_location_name``)."""
    return str(table.get("code_location_name") or root.name)


def served_locations(
    root: Path, pyproject: dict[str, Any], *, dg_found: bool | None = None
) -> tuple[str, ...]:
    """The code locations ``dagster dev`` (``dg dev`` for dg projects and workspaces, when dg
    is installed) serves from ``root`` without arguments, by the names it serves them under.

    Dagster's own rules: ``dagster dev`` reads a ``[tool.dagster]`` or ``[tool.dg]`` block of
    ``pyproject.toml`` when there is one (``code_location_name``, else the module's name) and
    only otherwise ``workspace.yaml``, whose entries are named by ``location_name``, else the
    module, package or file name (``.py`` included), with ``:attribute``; ``dg dev`` names a
    project by its ``code_location_name``, else its folder.
    """

    def dg_serves() -> bool:  # looked up only for dg projects and workspaces
        if dg_found is not None:
            return dg_found
        from daglab._host import find_executable

        return find_executable("dg") is not None

    members = _dg_workspace_projects(root, pyproject)
    if members is not None:
        if not dg_serves():
            return ()  # only `dg dev` serves a dg workspace
        names = []
        for member in members:
            member_pyproject = _read_toml(member / "pyproject.toml")
            names.append(_dg_location_name(member, _dg_project_table(member, member_pyproject)))
        return tuple(names)
    dg_project = _dg_project_table(root, pyproject)
    if dg_project.get("root_module") and dg_serves():
        return (_dg_location_name(root, dg_project),)
    tool = pyproject.get("tool", {})
    if "dagster" in tool or "dg" in tool:
        return _pyproject_locations(tool.get("dagster", {}), tool.get("dg", {}).get("project", {}))
    return tuple(workspace_location_names(root))


def _pyproject_locations(
    dagster_tool: dict[str, Any], dg_project: dict[str, Any]
) -> tuple[str, ...]:
    """What ``dagster dev`` serves from ``pyproject.toml`` (``get_target_from_toml_data``)."""
    name = dagster_tool.get("code_location_name")
    if dagster_tool.get("module_name"):
        return (str(name or dagster_tool["module_name"]),)
    modules = dagster_tool.get("modules")
    if isinstance(modules, list) and modules:
        return tuple(
            str(name or module["name"])
            for module in modules
            if isinstance(module, dict) and module.get("type") == "module" and module.get("name")
        )
    root_module = dg_project.get("root_module")
    if not root_module:
        return ()
    dg_name = dg_project.get("code_location_name")
    if dg_project.get("autoload_defs"):
        return (str(dg_name or dg_project.get("defs_module") or f"{root_module}.defs"),)
    target = dg_project.get("code_location_target_module") or f"{root_module}.definitions"
    return (str(dg_name or target),)


def _package_dir(root: Path, package: str, working_directory: str | None) -> Path | None:
    relative = Path(*package.split("."))
    bases = [root / working_directory] if working_directory else []
    bases += [root / "src", root]
    for base in bases:
        if (base / relative).is_dir():
            return base / relative
    return None


@dataclass(frozen=True)
class WorkspaceEntry:
    """A code location of ``workspace.yaml``: a module/package, or a Python file."""

    file_name: str
    module: str | None = None
    relative_path: str | None = None
    attribute: str | None = None
    working_directory: str | None = None
    location_name: str | None = None

    @property
    def served_name(self) -> str:
        """The name ``dagster dev`` serves this location under: ``location_name``, else the
        module (or the file's name, ``.py`` included), with ``:attribute`` when there is one."""
        if self.location_name:
            return self.location_name
        base = self.module or Path(self.relative_path or "").name
        return f"{base}:{self.attribute}" if self.attribute else base


def _load_from(root: Path) -> tuple[str, list[dict[str, Any]]]:
    """``workspace.yaml``'s file name and its ``load_from`` entries (mappings only)."""
    import yaml  # defer for import performance

    for name in ("workspace.yaml", "workspace.yml"):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            return name, []
        entries = data.get("load_from") if isinstance(data, dict) else None
        return name, [
            e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)
        ]
    return "", []


def _code_entry(file_name: str, entry: dict[str, Any]) -> WorkspaceEntry | None:
    for key in ("python_module", "python_package", "python_file"):
        spec = entry.get(key)
        if isinstance(spec, str):
            spec = {
                "relative_path"
                if key == "python_file"
                else "package_name"
                if key == "python_package"
                else "module_name": spec
            }
        if not isinstance(spec, dict):
            continue
        module = spec.get("module_name") or spec.get("package_name")
        relative = spec.get("relative_path") if key == "python_file" else None
        if module or relative:
            return WorkspaceEntry(
                file_name=file_name,
                module=str(module) if module and not relative else None,
                relative_path=str(relative) if relative else None,
                attribute=spec.get("attribute"),
                working_directory=spec.get("working_directory"),
                location_name=spec.get("location_name"),
            )
    return None


def workspace_entries(root: Path) -> list[WorkspaceEntry]:
    """Every code location of ``workspace.yaml`` that is Python code (not a gRPC server), in the
    order ``dagster dev -w`` loads them."""
    file_name, entries = _load_from(root)
    found = (_code_entry(file_name, entry) for entry in entries)
    return [entry for entry in found if entry is not None]


def workspace_location_names(root: Path) -> list[str]:
    """The name ``dagster dev -w`` serves each ``workspace.yaml`` location under, gRPC servers
    included (``location_name``, else ``grpc:<host>:<port or socket>``)."""
    file_name, entries = _load_from(root)
    names = []
    for entry in entries:
        code = _code_entry(file_name, entry)
        if code is not None:
            names.append(code.served_name)
            continue
        grpc = entry.get("grpc_server")
        if isinstance(grpc, dict) and (grpc.get("port") or grpc.get("socket")):
            where = grpc.get("socket") or grpc.get("port")
            names.append(
                str(grpc.get("location_name") or f"grpc:{grpc.get('host') or 'localhost'}:{where}")
            )
    return names


def first_workspace_entry(root: Path) -> WorkspaceEntry | None:
    """What ``dagster dev -w workspace.yaml`` loads first, or None (no file, no usable entry)."""
    entries = workspace_entries(root)
    return entries[0] if entries else None


def _from_workspace_yaml(root: Path) -> tuple[str | None, Path | None] | None:
    """The code package of ``workspace.yaml``'s first location: (package, package dir)."""
    entry = first_workspace_entry(root)
    if entry is None:
        return None
    if entry.module is not None:
        top = entry.module.split(".")[0]
        return (top, _package_dir(root, top, entry.working_directory))
    assert entry.relative_path is not None  # noqa: S101  type narrowing, an invariant
    parent = (root / entry.relative_path).resolve().parent
    is_pkg = (parent / "__init__.py").exists() and parent.name != "dagster"
    return (parent.name if is_pkg else None, parent)
