"""A lasting workspace.yaml from any workspace: what ``dg dev`` builds only in a temp folder.

Each dg project becomes a ``python_module`` entry the way dg writes it
(``create_temp_workspace_file``: module, working directory, location name), plus the
``executable_path`` of its interpreter: the one recorded by daglab, else the project's own
``.venv/bin/python`` when it has one. gRPC servers recorded in dg.toml become ``grpc_server``
entries. Paths are relative to the file's folder, except interpreters, which Dagster does not
resolve against the file and so are written absolute.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from daglab._errors import UsageError, ValidationError
from daglab._workspace.model import Change, Location, Workspace
from daglab._workspace.projects import project_code


def _relative_to(folder: Path, path: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _entry(location: Location, folder: Path) -> dict[str, Any]:
    if location.kind == "grpc":
        host, port = location.grpc or ("localhost", 0)
        return {"grpc_server": {"host": host, "port": port, "location_name": location.name}}
    assert location.path is not None  # noqa: S101  only gRPC entries have none
    code = project_code(location.path)
    if location.kind == "file":
        spec: dict[str, Any] = {"relative_path": _relative_to(folder, location.path)}
        key = "python_file"
    else:
        base = code.working_directory if code else location.path
        spec = {
            "module_name": location.module or (code.module if code else location.name),
            "working_directory": _relative_to(folder, base),
        }
        key = "python_module"
    spec["location_name"] = location.name
    executable = location.executable or (code.venv_python if code else None)
    if executable is not None:
        spec["executable_path"] = str(executable.absolute())
    return {key: spec}


def export_data(ws: Workspace, *, folder: Path | None = None) -> dict[str, Any]:
    """The ``load_from`` mapping for a workspace.yaml written into ``folder`` (the root)."""
    target = (folder or ws.root).resolve()
    return {"load_from": [_entry(location, target) for location in ws.locations]}


def export_text(ws: Workspace, *, folder: Path | None = None) -> str:
    import yaml  # defer for import performance

    header = (
        f"# Written by `daglab workspace export` from {ws.file.name}; "
        "run it again after changing that file.\n"
    )
    body = yaml.safe_dump(export_data(ws, folder=folder), sort_keys=False, allow_unicode=True)
    return header + body


def write_export(
    ws: Workspace, output: Path | None, *, force: bool = False, dry_run: bool = False
) -> Change:
    """Write the export to ``output`` (default ``workspace.yaml`` in the root), checked against
    Dagster's schema first; a file daglab did not write is overwritten only with ``force``."""
    from daglab._owned import check_destination, write_owned
    from daglab._workspace.write import diff

    explicit = output is not None
    target = (output if output is not None else ws.root / "workspace.yaml").absolute()
    if target.resolve() == ws.file:
        raise UsageError(
            f"{ws.file.name} is the workspace file itself",
            remediation="Give another --output.",
        )
    target = check_destination(ws.root, target, explicit=explicit, force=force or dry_run)
    text = export_text(ws, folder=target.parent)
    _check_schema(text, target)
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    if old == text:
        return Change(False, f"{target} is up to date", file=target)
    change_diff = diff(old, text, target.name)
    if dry_run:
        return Change(True, f"would write {target}", file=target, diff=change_diff)
    write_owned(
        ws.root,
        target,
        text,
        generator="daglab workspace export",
        kind="workspace-export",
        explicit=explicit,
        force=force,
    )
    return Change(True, f"wrote {target}", file=target, diff=change_diff)


def _check_schema(text: str, target: Path) -> None:
    import yaml  # defer for import performance

    try:
        from dagster._core.workspace.config_schema import process_workspace_config
    except ImportError:  # no Dagster here: nothing to check against
        return
    result = process_workspace_config(yaml.safe_load(text))
    if not result.success:
        errors = "; ".join(error.message for error in result.errors or [])
        raise ValidationError(
            f"the workspace.yaml for {target} fails Dagster's schema: {errors}",
            remediation="Run `daglab workspace validate` and fix what it reports.",
        )
