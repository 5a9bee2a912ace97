"""What is wrong with a workspace, each problem with its remedy.

Static checks read files only and import nothing heavy: a missing path, a project folder on
disk nobody registered, two locations under one name, daglab markers that do not pair, a
recorded interpreter that is gone. The schema check runs Dagster's own workspace schema
(``dagster._core.workspace.config_schema``) over workspace.yaml, or over what ``export`` would
write for a dg.toml; it imports Dagster, so callers that must stay fast pass ``schema=False``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Literal

from daglab._workspace.model import Parsed, Workspace, parse
from daglab._workspace.projects import project_code, project_folders

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding: ``code`` is stable (for scripts), ``location`` the entry's name or None."""

    code: str
    message: str
    remediation: str
    location: str | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate(ws: Workspace, *, load: bool = False, schema: bool = True) -> list[Problem]:
    """Every problem of ``ws``; ``load`` also loads each location in its own process."""
    parsed = parse(ws.file)
    ws = parsed.workspace
    problems = _static(parsed)
    if schema:
        problems += schema_problems(parsed)
    if load:
        from daglab._workspace.load import load_problems

        problems += load_problems(ws)
    return problems


def _static(parsed: Parsed) -> list[Problem]:
    ws = parsed.workspace
    problems: list[Problem] = []
    file = ws.file.name
    for line in parsed.markers.stray:
        problems.append(
            Problem(
                "stray-marker",
                f"{file}:{line + 1}: a daglab marker without its pair",
                "Remove the line or restore the file with `daglab workspace restore`.",
            )
        )
    for block in parsed.orphans:
        problems.append(
            Problem(
                "orphan-block",
                f"{file}:{block.start + 1}: daglab's block {block.name!r} belongs to no entry",
                f"Drop it: `daglab workspace remove {block.name}` (or `sync --prune`).",
                block.name,
            )
        )
    for location in ws.locations:
        how = "daglab workspace remove " + location.name if location.managed else f"edit {file}"
        if location.path is not None and not location.path.exists():
            problems.append(
                Problem(
                    "missing-path",
                    f"{location.name}: {ws.shown(location.path)} does not exist",
                    f"Restore the folder, or drop the entry (`{how}`; "
                    "`daglab workspace sync --prune` drops daglab's).",
                    location.name,
                )
            )
        elif location.kind == "project" and location.module is None and location.path:
            problems.append(
                Problem(
                    "not-a-project",
                    f"{location.name}: {ws.shown(location.path)} is not a dg project "
                    "(no [tool.dg.project] root_module)",
                    f"Point the entry at a folder made by `create-dagster project` ({how}).",
                    location.name,
                )
            )
        if location.executable is not None and not location.executable.exists():
            problems.append(
                Problem(
                    "missing-executable",
                    f"{location.name}: interpreter {location.executable} does not exist",
                    "Create the project's environment (`uv sync` in its folder) or fix "
                    f"executable_path ({how}).",
                    location.name,
                )
            )
        if location.kind == "grpc" and location.grpc is not None:
            host, port = location.grpc
            if not 0 < port < 65536:
                problems.append(
                    Problem(
                        "bad-port",
                        f"{location.name}: gRPC port {port} is not a TCP port",
                        f"Use a port between 1 and 65535 ({how}, then `daglab workspace add "
                        f"--grpc {host}:PORT --name {location.name}`).",
                        location.name,
                    )
                )
    counts = Counter(location.name for location in ws.locations)
    for name, count in counts.items():
        if count > 1:
            problems.append(
                Problem(
                    "duplicate-name",
                    f"{count} locations are named {name!r}; Dagster serves one name once",
                    "Give each a distinct name: [tool.dg.project] code_location_name in the "
                    "project's pyproject.toml, or location_name in workspace.yaml.",
                    name,
                )
            )
    registered = {loc.path for loc in ws.locations if loc.path is not None}
    for folder in project_folders(ws.root):
        code = project_code(folder)
        if folder in registered or code is None:
            continue
        if ws.kind == "dg" and not code.dg:
            continue  # dg serves dg projects only
        if any(
            loc.kind == "file" and loc.path and loc.path.is_relative_to(folder)
            for loc in ws.locations
        ):
            continue
        problems.append(
            Problem(
                "unregistered-project",
                f"{ws.shown(folder)} is a Dagster project that {file} does not list",
                f"Register it: `daglab workspace add {ws.shown(folder)}` "
                "(or `daglab workspace sync` for all).",
                code.name,
            )
        )
    return problems


def schema_problems(parsed: Parsed) -> list[Problem]:
    """Dagster's workspace schema over the file's ``load_from`` (or export's, for dg.toml)."""
    try:
        from dagster._core.workspace.config_schema import process_workspace_config
    except ImportError:  # no Dagster here: nothing to check against
        return []
    if parsed.workspace.kind == "yaml":
        data: dict[str, Any] = parsed.data
    else:
        from daglab._workspace.export import export_data

        data = export_data(parsed.workspace)
    result = process_workspace_config(data)
    if result.success:
        return []
    return [
        Problem(
            "schema",
            f"{parsed.workspace.file.name}: Dagster's workspace schema rejects it: {error.message}",
            "Fix the entry as the message says (see Dagster's workspace.yaml reference).",
        )
        for error in result.errors or []
    ]
