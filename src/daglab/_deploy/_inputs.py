"""What a deployment is made of: the workspace's code locations, with their module metadata.

Every name and path that reaches a generated file is checked here, once: location names,
module names, environment variable names and project folders are refused unless they are
plain (no quoting is then needed in a unit file, a shell script or YAML, and none can escape
the workspace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from daglab._errors import EnvironmentMissingError, ValidationError

if TYPE_CHECKING:
    from daglab._modules import ModuleMeta
    from daglab._workspace import Workspace

#: A target name: a folder under ``deploy/`` and part of systemd unit names.
TARGET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")
#: Location names Dagster accepts that are also safe in unit names and file names.
LOCATION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}\Z")
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")
#: A relative path of plain segments (``projects/alpha``), or ``.``.
REL_PATH = re.compile(r"(\.|[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)\Z")
#: An absolute server path of plain segments (``/opt/daglab/prod``).
ABS_PATH = re.compile(r"(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+\Z")
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})\Z")

#: Where assigned code-server ports start when a module records none.
DEFAULT_BASE_PORT = 4000


@dataclass(frozen=True)
class CodeLocation:
    """One code location as a deployment sees it."""

    name: str
    kind: Literal["module", "file", "grpc"]
    module: str | None  # python module for kind "module"
    file: str | None  # python file, relative to ``project``, for kind "file"
    project: str  # project folder relative to the workspace root (posix), "." for the root
    working_directory: str  # where the module is importable from, relative to ``project``
    port: int
    port_source: Literal["module", "assigned", "grpc"]
    env: tuple[str, ...] = ()
    grpc_host: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "module": self.module,
            "file": self.file,
            "project": self.project,
            "working_directory": self.working_directory,
            "port": self.port,
            "port_source": self.port_source,
            "env": list(self.env),
            **({"grpc_host": self.grpc_host} if self.grpc_host else {}),
        }


@dataclass(frozen=True)
class Inputs:
    root: Path
    locations: tuple[CodeLocation, ...]
    notes: tuple[str, ...] = field(default=())


def check_target(name: str) -> str:
    if not TARGET_NAME.match(name):
        raise ValidationError(
            f"target name {name!r} is not allowed",
            remediation="Use lowercase letters, digits, '-' and '_' (at most 63), e.g. prod.",
        )
    return name


def check_plain(value: str, pattern: re.Pattern[str], what: str, example: str) -> str:
    parts = value.split("/")
    if not pattern.match(value) or ".." in parts or (value != "." and "." in parts):
        raise ValidationError(
            f"{what} {value!r} is not allowed in a deployment",
            remediation=f"Use plain letters, digits, '.', '-', '_' (e.g. {example}).",
        )
    return value


def find(start: Path) -> Workspace:
    """The workspace at or above ``start`` (exit 3 when there is none)."""
    from daglab._workspace import find_workspace

    workspace = find_workspace(start)
    if workspace is None:
        raise EnvironmentMissingError(
            f"no Dagster workspace at or above {start}",
            remediation="Run this inside a workspace (dg.toml or workspace.yaml), e.g. one made"
            " by `create-dagster workspace`.",
        )
    return workspace


def gather(
    workspace: Workspace, *, base_port: int, recorded: dict[str, int] | None = None
) -> Inputs:
    """The workspace at ``root`` as code locations with ports and environment variable names.

    A module's own ``port`` wins; the others get the lowest port from ``base_port`` on that no
    module records and no earlier location took, in the order ``recorded`` (the ports of the
    previous run), then by name, so a second run keeps every port.
    """
    root = workspace.root.resolve()
    drafts: list[dict[str, Any]] = []
    notes: list[str] = []
    for location in workspace.locations:
        check_plain(location.name, LOCATION_NAME, "location name", "alpha")
        if location.kind == "grpc" and location.grpc is not None:
            host, port = location.grpc
            check_plain(host, HOST, "gRPC host", "localhost")
            drafts.append(
                {
                    "name": location.name,
                    "kind": "grpc",
                    "project": ".",
                    "port": port,
                    "grpc_host": host,
                    "port_source": "grpc",
                }
            )
            continue
        if location.path is None:
            continue  # an entry with neither a folder nor a server serves nothing to deploy
        module = location.module
        file: str | None = None
        folder = location.path
        if location.kind == "file":  # the path names the file itself
            folder, file, module = location.path.parent, location.path.name, None
            check_plain(file, REL_PATH, "python file", "definitions.py")
        project = _relative(root, folder)
        meta = _module_meta(folder)
        draft: dict[str, Any] = {
            "name": location.name,
            "kind": "file" if location.kind == "file" else "module",
            "module": module,
            "file": file,
            "project": project,
            "working_directory": _importable_from(folder, module),
            "port": meta.port if meta else None,
            "env": tuple(meta.env) if meta else (),
        }
        if module is not None:
            check_plain(module, MODULE_NAME, "module name", "alpha.definitions")
        elif file is None:
            raise ValidationError(
                f"location {location.name} names no module to load ({folder})",
                remediation="Give the project a [tool.dg.project] root_module, or the entry a"
                " module_name.",
            )
        for name in draft["env"]:
            check_plain(name, ENV_NAME, "environment variable name", "ALPHA_POSTGRES_URL")
        drafts.append(draft)
    names = [draft["name"] for draft in drafts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError(
            f"location names used twice in the workspace: {', '.join(duplicates)}",
            remediation="Give each project its own code_location_name, then run again"
            " (`daglab workspace validate` lists them).",
        )
    _assign_ports(drafts, base_port, recorded or {})
    locations = tuple(
        CodeLocation(
            name=d["name"],
            kind=d["kind"],
            module=d.get("module"),
            file=d.get("file"),
            project=d["project"],
            working_directory=d.get("working_directory", "."),
            port=d["port"],
            port_source=d["port_source"],
            env=tuple(d.get("env", ())),
            grpc_host=d.get("grpc_host"),
        )
        for d in sorted(drafts, key=lambda d: d["name"])
    )
    if not locations:
        notes.append("the workspace lists no code locations")
    return Inputs(root=root, locations=locations, notes=tuple(notes))


def _assign_ports(drafts: list[dict[str, Any]], base: int, recorded: dict[str, int]) -> None:
    taken: set[int] = set()
    for draft in drafts:
        if draft["port"] is not None:
            if draft["port"] in taken:
                others = [d["name"] for d in drafts if d["port"] == draft["port"]]
                raise ValidationError(
                    f"port {draft['port']} is recorded by more than one location:"
                    f" {', '.join(others)}",
                    remediation="Give each module its own port in [tool.daglab.module].",
                )
            taken.add(draft["port"])
            draft.setdefault("port_source", "module")
    waiting = [d for d in drafts if d["port"] is None]
    # keep a port assigned before while it is still free, then the rest by name
    for draft in sorted(waiting, key=lambda d: d["name"]):
        port = recorded.get(draft["name"])
        if port is not None and port not in taken and 0 < port < 65536:
            draft["port"], draft["port_source"] = port, "assigned"
            taken.add(port)
    port = base
    for draft in sorted(waiting, key=lambda d: d["name"]):
        if draft["port"] is not None:
            continue
        while port in taken:
            port += 1
        if port > 65535:
            raise ValidationError(
                f"no ports left above {base}", remediation="Pass a lower --base-port."
            )
        draft["port"], draft["port_source"] = port, "assigned"
        taken.add(port)


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise ValidationError(
            f"project folder {path} is outside the workspace at {root}",
            remediation="Deploy only projects inside the workspace folder.",
        )
    rel = resolved.relative_to(root).as_posix() or "."
    return check_plain(rel, REL_PATH, "project folder", "projects/alpha")


def _importable_from(project: Path, module: str | None) -> str:
    """``src`` for a src-layout project (where its top package lives), else ``.``."""
    if module is not None:
        top = module.split(".")[0]
        if (project / "src" / top).is_dir() or (project / "src" / f"{top}.py").is_file():
            return "src"
    return "."


def _module_meta(project: Path) -> ModuleMeta | None:
    from daglab._modules import read_module_meta

    return read_module_meta(project)
