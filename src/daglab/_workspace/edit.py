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
from daglab._fs import file_lock
from daglab._workspace import markers as _markers
from daglab._workspace.model import (
    Change,
    Location,
    Parsed,
    Workspace,
    absolute_path,
    parse,
    yaml_item_lines,
)
from daglab._workspace.projects import ProjectCode, project_code, project_folders
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
    if ws.location(name) is not None:
        how = (
            "set [tool.dg.project] code_location_name in the project's pyproject.toml"
            if ws.kind == "dg"
            else "choose another name (--name)"
        )
        raise ConflictError(
            f"{ws.file.name} already has a location named {name!r}",
            remediation=f"Two locations cannot share a name: {how}, or remove that entry first.",
            name=name,
        )


def register_project(
    ws: Workspace,
    project: Path,
    *,
    name: str | None = None,
    python: Path | None = None,
    dry_run: bool = False,
) -> Change:
    """Register the Dagster project at ``project``; a project already listed is left alone.

    ``python``: the interpreter the location runs under (``executable_path``); for a project
    already listed by hand in dg.toml it is recorded as a note beside that entry.
    """
    with file_lock(ws.file):
        return _register_project(ws, project, name=name, python=python, dry_run=dry_run)


def _project_code(folder: Path) -> ProjectCode:
    code = project_code(folder)
    if code is None:
        raise ValidationError(
            f"{folder} is not a Dagster project (no [tool.dg.project] root_module or "
            "[tool.dagster] module_name in its pyproject.toml)",
            remediation="Create it with `create-dagster project` or `daglab module new`.",
            path=str(folder),
        )
    return code


def _interpreter(ws: Workspace, python: Path | None) -> str | None:
    """``python`` as recorded: relative to the root when inside it (checked for line breaks)."""
    if python is None:
        return None
    path = python.absolute()
    shown = path.relative_to(ws.root).as_posix() if path.is_relative_to(ws.root) else str(path)
    _quote(shown)  # no control characters: the value becomes one line of the file
    return shown


def _register_project(
    ws: Workspace, project: Path, *, name: str | None, python: Path | None, dry_run: bool
) -> Change:
    parsed = parse(ws.file)
    ws = parsed.workspace
    folder = _inside(ws, project)
    code = _project_code(folder)
    relative = folder.relative_to(ws.root).as_posix()
    interpreter = _interpreter(ws, python)
    listed = next(
        (loc for loc in ws.locations if loc.path == folder and loc.kind in ("project", "module")),
        None,
    )
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
        location_name = _markers.check_location_name(code.name)
        body = ["[[workspace.projects]]", f"path = {_quote(relative)}"]
    else:
        location_name = listed.name if listed else name or code.name
        _markers.check_location_name(location_name)
        working = code.working_directory.relative_to(ws.root).as_posix()
        body = [
            "- python_module:",
            f"    module_name: {_quote(code.module)}",
            f"    working_directory: {_quote(working)}",
            f"    location_name: {_quote(location_name)}",
        ]
        # Dagster runs executable_path as written, relative to its own working directory
        chosen = python.absolute() if python is not None else code.venv_python
        executable = str(chosen) if chosen is not None else None
        if executable is not None:
            body.append(f"    executable_path: {_quote(executable)}")
    if listed is not None:
        return _update_listed(parsed, listed, body, interpreter, dry_run=dry_run)
    _ensure_free(ws, location_name)
    if ws.kind == "dg":
        if interpreter is not None:
            body.append(_markers.executable_line(interpreter))
        new_text = _append_toml(parsed.text, _block(location_name, body))
    else:
        new_text = _append_yaml(parsed, location_name, body)
    return apply(ws, new_text, message=f"register {relative} as {location_name}", dry_run=dry_run)


def _update_listed(
    parsed: Parsed,
    listed: Location,
    body: list[str],
    interpreter: str | None,
    *,
    dry_run: bool,
) -> Change:
    """A project already listed: only a new interpreter changes anything."""
    ws = parsed.workspace
    if interpreter is None or listed.executable in (
        absolute_path(ws.root, interpreter),
        Path(interpreter),
    ):
        return Change(False, f"{listed.name} is already registered", file=ws.file)
    lines = parsed.lines
    own = next((e.block for e in parsed.entries if e.location is listed), None)
    note = parsed.markers.named(listed.name)
    if ws.kind == "yaml" and own is None:
        raise ConflictError(
            f"{listed.name!r} is an entry of {ws.file.name} that daglab did not write",
            remediation=f"Set its executable_path by hand in {ws.file}.",
            name=listed.name,
        )
    if own is not None:  # daglab's own entry: written again with the interpreter
        indent = re.match(r"[ \t]*", lines[own.start])
        if ws.kind == "dg":
            body = [*body, _markers.executable_line(interpreter)]
        block = _block(listed.name, body, indent.group(0) if indent else "")
        new_text = "".join(lines[: own.start] + block + lines[own.end + 1 :])
    elif note is not None:  # a note beside a hand-written dg.toml entry: replaced
        block = _block(listed.name, [_markers.executable_line(interpreter)])
        new_text = "".join(lines[: note.start] + block + lines[note.end + 1 :])
    else:
        block = _block(listed.name, [_markers.executable_line(interpreter)])
        new_text = _append_toml(parsed.text, block)
    what = f"run {listed.name} under {interpreter}"
    return apply(ws, new_text, message=what, dry_run=dry_run)


def parse_grpc_target(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` for localhost), checked."""
    host, _, port_text = target.rpartition(":")
    host = host or "localhost"
    port_ok = port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536
    if not _HOST.fullmatch(host) or not port_ok:
        raise UsageError(
            f"{target!r} is not HOST:PORT",
            remediation="Give a host name or IPv4 address and a port, e.g. localhost:4001.",
        )
    return host, int(port_text)


def add_grpc(
    ws: Workspace, host: str, port: int, *, name: str | None = None, dry_run: bool = False
) -> Change:
    """Record the gRPC code server at ``host:port`` (a dg.toml keeps it as a marker comment)."""
    with file_lock(ws.file):
        return _add_grpc(ws, host, port, name=name, dry_run=dry_run)


def _add_grpc(ws: Workspace, host: str, port: int, *, name: str | None, dry_run: bool) -> Change:
    parse_grpc_target(f"{host}:{port}")  # the same checks for callers of the library
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
        raise ValidationError(
            f"{ws.file.name} has no location named {name!r}{did_you_mean(name, known)}",
            remediation="Run `daglab workspace list` to see the names.",
            name=name,
        )
    return block


def remove_location(ws: Workspace, name: str, *, dry_run: bool = False) -> Change:
    """Delete daglab's block ``name``; a hand-written entry is refused (exit 8)."""
    with file_lock(ws.file):
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
        gone += [block.name for block in parsed.orphans]
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
        raise ValidationError(
            f"{ws.file.name} has no location named {name!r}{did_you_mean(name, known)}",
            remediation="Run `daglab workspace list` to see the names.",
        )
    return location
