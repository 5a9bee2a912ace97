"""Edits of a workspace file, made as text so everything outside daglab's blocks stays as is.

``register_project`` appends a marked block; ``remove_location`` deletes one (refusing entries
daglab did not write); ``add_grpc`` records a gRPC code server; ``sync`` registers every project
on disk and, with ``prune``, drops daglab's entries whose folder is gone. Every write goes
through ``write.apply`` (backup, atomic write, validation, rollback).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from daglab._errors import ConflictError, UsageError, ValidationError, did_you_mean
from daglab._workspace import markers as _markers
from daglab._workspace.model import Change, Location, Parsed, Workspace, parse, yaml_item_lines
from daglab._workspace.projects import project_code, project_folders
from daglab._workspace.write import apply

_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,252}$")


def _quote(value: str) -> str:
    """A string as a TOML basic string, which is also a YAML double-quoted scalar."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(
            f"{value!r} holds a control character", remediation="Rename it without one."
        )
    return json.dumps(value, ensure_ascii=False)


def _inside(ws: Workspace, path: Path) -> Path:
    resolved = path.resolve()
    if resolved == ws.root or not resolved.is_relative_to(ws.root):
        raise UsageError(
            f"{path} is not a folder inside the workspace at {ws.root}",
            remediation="Give a project folder below the workspace root.",
            path=str(path),
        )
    return resolved


def _block(name: str, body: list[str], indent: str = "") -> list[str]:
    return [
        f"{indent}# daglab:begin {name}\n",
        *(f"{indent}{line}\n" for line in body),
        f"{indent}# daglab:end {name}\n",
    ]


def _append_toml(text: str, block: list[str]) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    if text.strip() and not text.endswith("\n\n"):
        text += "\n"
    return text + "".join(block)


def _append_yaml(parsed: Parsed, name: str, body: list[str]) -> str:
    lines = parsed.lines
    items, indent, start = yaml_item_lines(lines)
    if start is None:
        text = parsed.text
        if text and not text.endswith("\n"):
            text += "\n"
        return text + "load_from:\n" + "".join(_block(name, body, "  "))
    after = lines[start].split(":", 1)[1].split("#", 1)[0].strip()
    if after == "[]" and not items:
        lines[start] = "load_from:\n"
    elif after:
        raise ValidationError(
            f"{parsed.workspace.file.name}: load_from is written inline",
            remediation="Write load_from as a block list (one `- ` item per line), then again.",
        )
    indent = "  " if indent is None else indent
    end = start
    for index in range(start + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            continue
        marker = _markers.BEGIN.match(line) or _markers.END.match(line)
        if line[:1].isspace() or index in items or marker:
            end = index
        elif not stripped.startswith("#"):
            break
    if not lines[end].endswith("\n"):
        lines[end] += "\n"
    lines[end + 1 : end + 1] = _block(name, body, indent)
    return "".join(lines)


def _ensure_free(ws: Workspace, name: str) -> None:
    taken = ws.location(name)
    if taken is not None:
        raise ConflictError(
            f"{ws.file.name} already has a location named {name!r}",
            remediation="Choose another name (--name), or remove that entry first.",
            name=name,
        )


def register_project(
    ws: Workspace, project: Path, *, name: str | None = None, dry_run: bool = False
) -> Change:
    """Register the Dagster project at ``project``; a project already listed is left alone."""
    parsed = parse(ws.file)
    ws = parsed.workspace
    folder = _inside(ws, project)
    code = project_code(folder)
    if code is None:
        raise ValidationError(
            f"{folder} is not a Dagster project (no [tool.dg.project] root_module or "
            "[tool.dagster] module_name in its pyproject.toml)",
            remediation="Create it with `create-dagster project` or `daglab module new`.",
            path=str(folder),
        )
    for location in ws.locations:
        if location.path == folder and location.kind in ("project", "module"):
            return Change(False, f"{location.name} is already registered", file=ws.file)
    relative = folder.relative_to(ws.root).as_posix()
    if ws.kind == "dg":
        if not code.dg:
            raise ValidationError(
                f"{relative} is not a dg project; a dg workspace serves dg projects only",
                remediation="Add [tool.dg] to it (`create-dagster project` writes one).",
            )
        if name is not None and name != code.name:
            raise UsageError(
                f"dg serves {relative} as {code.name!r}, not {name!r}",
                remediation="Set [tool.dg.project] code_location_name in its pyproject.toml.",
            )
        _ensure_free(ws, code.name)
        body = ["[[workspace.projects]]", f"path = {_quote(relative)}"]
        new_text = _append_toml(parsed.text, _block(code.name, body))
        location_name = code.name
    else:
        location_name = _markers.check_location_name(name or code.name)
        _ensure_free(ws, location_name)
        working = code.working_directory.relative_to(ws.root).as_posix()
        body = [
            "- python_module:",
            f"    module_name: {_quote(code.module)}",
            f"    working_directory: {_quote(working)}",
            f"    location_name: {_quote(location_name)}",
        ]
        if code.venv_python is not None:
            body.append(f"    executable_path: {_quote(str(code.venv_python))}")
        new_text = _append_yaml(parsed, location_name, body)
    return apply(ws, new_text, message=f"register {relative} as {location_name}", dry_run=dry_run)


def parse_grpc_target(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` for localhost), checked."""
    host, _, port_text = target.rpartition(":")
    host = host or "localhost"
    if not _HOST.match(host) or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(
            f"{target!r} is not HOST:PORT",
            remediation="Give a host name or IPv4 address and a port, e.g. localhost:4001.",
        )
    return host, int(port_text)


def add_grpc(
    ws: Workspace, host: str, port: int, *, name: str | None = None, dry_run: bool = False
) -> Change:
    """Record the gRPC code server at ``host:port`` (a dg.toml keeps it as a marker comment)."""
    parsed = parse(ws.file)
    ws = parsed.workspace
    for location in ws.locations:
        if location.kind == "grpc" and location.grpc == (host, port):
            return Change(False, f"{location.name} is already registered", file=ws.file)
    location_name = _markers.check_location_name(name or f"{host}-{port}")
    _ensure_free(ws, location_name)
    if ws.kind == "dg":
        new_text = _append_toml(
            parsed.text, _block(location_name, [_markers.grpc_line(host, port)])
        )
    else:
        body = [
            "- grpc_server:",
            f"    host: {_quote(host)}",
            f"    port: {port}",
            f"    location_name: {_quote(location_name)}",
        ]
        new_text = _append_yaml(parsed, location_name, body)
    what = f"register the gRPC server {host}:{port} as {location_name}"
    return apply(ws, new_text, message=what, dry_run=dry_run)


def _without_block(lines: list[str], block: _markers.Block) -> str:
    start, end = block.start, block.end
    before_blank = start > 0 and not lines[start - 1].strip()
    after_blank_or_eof = end + 1 >= len(lines) or not lines[end + 1].strip()
    if before_blank and after_blank_or_eof:
        start -= 1  # the blank line daglab put before its block
    return "".join(lines[:start] + lines[end + 1 :])


def _managed_block(parsed: Parsed, name: str) -> _markers.Block:
    ws = parsed.workspace
    location = ws.location(name)
    block = parsed.markers.named(name)
    if location is not None and not location.managed:
        raise ConflictError(
            f"{name!r} is an entry of {ws.file.name} that daglab did not write",
            remediation=f"Remove it by hand in {ws.file}; daglab edits only its own blocks.",
            name=name,
        )
    if block is None:
        known = [loc.name for loc in ws.locations]
        raise UsageError(
            f"{ws.file.name} has no location named {name!r}{did_you_mean(name, known)}",
            remediation="Run `daglab workspace list` to see the names.",
            name=name,
        )
    return block


def remove_location(ws: Workspace, name: str, *, dry_run: bool = False) -> Change:
    """Delete daglab's block ``name``; a hand-written entry is refused (exit 8)."""
    parsed = parse(ws.file)
    block = _managed_block(parsed, name)
    new_text = _without_block(parsed.lines, block)
    return apply(parsed.workspace, new_text, message=f"remove {name}", dry_run=dry_run)


def sync(ws: Workspace, *, prune: bool = False, dry_run: bool = False) -> list[Change]:
    """Register every project folder on disk once; with ``prune`` drop daglab's entries whose
    folder is gone. A second run changes nothing."""
    changes: list[Change] = []
    parsed = parse(ws.file)
    if prune:
        gone = [
            loc.name
            for loc in parsed.workspace.locations
            if loc.managed and loc.path is not None and not loc.path.exists()
        ]
        for name in gone:
            changes.append(remove_location(parsed.workspace, name, dry_run=dry_run))
    registered = {loc.path for loc in parsed.workspace.locations if loc.path is not None}
    for folder in project_folders(parsed.workspace.root):
        code = project_code(folder)
        if folder in registered or code is None or (ws.kind == "dg" and not code.dg):
            continue
        changes.append(register_project(parse(ws.file).workspace, folder, dry_run=dry_run))
    return changes


def known_location(ws: Workspace, name: str) -> Location:
    location = ws.location(name)
    if location is None:
        known = [loc.name for loc in ws.locations]
        raise UsageError(
            f"{ws.file.name} has no location named {name!r}{did_you_mean(name, known)}",
            remediation="Run `daglab workspace list` to see the names.",
        )
    return location
