"""``daglab workspace``: list, check and edit the code locations of dg.toml or workspace.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from daglab._workspace import Change, Problem, Workspace

workspace_app = typer.Typer(
    help="List, check and edit the workspace's code locations (dg.toml or workspace.yaml).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

LIST_EXAMPLES = """[bold]Examples[/]

  daglab workspace list                  name, kind, target and owner of each location

  daglab workspace list --json

In a dg workspace the projects are the ones `dg list projects` prints, in its order."""

VALIDATE_EXAMPLES = """[bold]Examples[/]

  daglab workspace validate              static checks, well under a second

  daglab workspace validate --load       also load each location in a process of its own

  daglab workspace validate --json

Exit 7 when anything is wrong: a missing path, a project folder not registered, two
locations with one name, an entry Dagster's workspace schema rejects, a failed load."""

SYNC_EXAMPLES = """[bold]Examples[/]

  daglab workspace sync                  register every project folder not listed yet

  daglab workspace sync --prune          also drop daglab's entries whose folder is gone

  daglab workspace sync --dry-run        show the diff, change nothing"""

ADD_EXAMPLES = """[bold]Examples[/]

  daglab workspace add projects/billing

  daglab workspace add --grpc localhost:4001 --name billing

  daglab workspace add projects/ml --python projects/ml/.venv/bin/python

A dg.toml cannot hold a gRPC server or an interpreter: daglab keeps them as comments there
(# daglab:grpc host=… port=…, # daglab:executable PATH) and `daglab workspace export` writes
them to workspace.yaml."""

REMOVE_EXAMPLES = """[bold]Examples[/]

  daglab workspace remove billing

Only entries daglab wrote (between # daglab:begin/end comments) are removed; a hand-written
one is refused with exit 8. Everything else in the file stays byte for byte."""

EXPORT_EXAMPLES = """[bold]Examples[/]

  daglab workspace export                        workspace.yaml beside dg.toml

  daglab workspace export --output deploy/workspace.yaml

  dagster dev -w workspace.yaml                  serve it

Each project becomes a python_module entry (as `dg dev` builds one) with executable_path
set to its interpreter; gRPC servers become grpc_server entries."""

RESTORE_EXAMPLES = """[bold]Examples[/]

  daglab workspace restore                        list the backups, newest last

  daglab workspace restore 20260101T120000.000000Z-dg.toml"""

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="The workspace folder or file (default: the nearest one at or above the current"
        " folder).",
        show_default=False,
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the diff; change nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")


def _workspace(given: Path | None) -> Workspace:
    from daglab._errors import EnvironmentMissingError
    from daglab._workspace import find_workspace, load_workspace

    if given is not None:
        return load_workspace(given)
    found = find_workspace(Path.cwd())
    if found is None:
        raise EnvironmentMissingError(
            f"no workspace at or above {Path.cwd()}: no dg.toml with directory_type ="
            ' "workspace" and no workspace.yaml',
            remediation="cd into the workspace, pass --workspace PATH, or create one with"
            " `create-dagster workspace`.",
        )
    return found


def _header(ws: Workspace) -> dict[str, str]:
    return {"root": str(ws.root), "kind": ws.kind, "file": str(ws.file)}


@workspace_app.command("list", epilog=LIST_EXAMPLES)
def list_locations(workspace: WorkspaceOption = None, json_output: Json = False) -> None:
    """Show every code location of the workspace, by the name Dagster serves it under."""
    ws = _workspace(workspace)
    if json_output:
        from daglab._cli._output import print_json

        data = ws.to_dict()
        print_json({"workspace": _header(ws), "locations": data["locations"]})
        return
    from rich.table import Table

    from daglab._cli._output import console, safe

    table = Table(title=f"{safe(ws.shown(ws.file))} ({ws.kind})", title_justify="left")
    for column in ("name", "kind", "target", "interpreter", "entry"):
        table.add_column(column, no_wrap=column == "name")
    for loc in ws.locations:
        target = f"{loc.grpc[0]}:{loc.grpc[1]}" if loc.grpc else ws.shown(loc.path) or ""
        if loc.module and loc.kind != "project":
            target = f"{loc.module} ({target})" if target else loc.module
        table.add_row(
            safe(loc.name),
            loc.kind,
            safe(target),
            safe(loc.executable or ""),
            "daglab" if loc.managed else "hand-written",
        )
    out = console()
    out.print(table)
    if not ws.locations:
        out.print("No locations yet: `daglab workspace add PATH` or `daglab workspace sync`.")


@workspace_app.command("validate", epilog=VALIDATE_EXAMPLES)
def validate_workspace(
    workspace: WorkspaceOption = None,
    load: Annotated[
        bool, typer.Option("--load", help="Also load each location in a process of its own.")
    ] = False,
    schema: Annotated[
        bool,
        typer.Option("--schema/--no-schema", help="Check Dagster's workspace schema (imports it)."),
    ] = True,
    json_output: Json = False,
) -> None:
    """Check the workspace for drift; each problem comes with its remedy (exit 7 on any)."""
    from daglab._workspace import validate

    ws = _workspace(workspace)
    problems = validate(ws, load=load, schema=schema)
    errors = [p for p in problems if p.severity == "error"]
    if json_output:
        from daglab._cli._output import print_json

        print_json(
            {
                "workspace": _header(ws),
                "ok": not errors,
                "problems": [p.to_dict() for p in problems],
            }
        )
        if errors:
            raise typer.Exit(7)
        return
    _render_problems(ws, problems)
    if errors:
        from daglab._errors import ValidationError

        raise ValidationError(
            f"{len(errors)} problem(s) in {ws.file.name}",
            remediation="Fix each as shown above, then run `daglab workspace validate` again.",
        )


def _render_problems(ws: Workspace, problems: list[Problem]) -> None:
    from daglab._cli._output import console, safe

    out = console()
    if not problems:
        count = len(ws.locations)
        out.print(f"[green]✓[/] {safe(ws.shown(ws.file))}: {count} location(s), no problems.")
        return
    for problem in problems:
        mark = "[red]✗[/]" if problem.severity == "error" else "[yellow]![/]"
        out.print(f"{mark} {safe(problem.message)}  [dim]({problem.code})[/]")
        out.print(f"  [yellow]→[/] {safe(problem.remediation)}")


def _report(changes: list[Change], *, json_output: bool, dry_run: bool) -> None:
    changed = any(c.changed for c in changes)
    if json_output:
        from daglab._cli._output import print_json

        print_json(
            {
                "changed": changed,
                "dry_run": dry_run,
                "changes": [change.to_dict() for change in changes],
            }
        )
        return
    from daglab._cli._output import console, safe

    out = console()
    if not changes:
        out.print("Nothing to change.")
    for change in changes:
        out.print(safe(change.message[:1].upper() + change.message[1:]) + ".")
        if dry_run and change.diff:
            out.print(safe(change.diff.rstrip("\n")), soft_wrap=True)
        if change.backup is not None:
            out.print(f"  [dim]backup: {safe(change.backup)}[/]")
    if changed and not dry_run:
        from daglab._workspace.write import RESTART_NOTE

        out.print(f"[yellow]{RESTART_NOTE}[/]")


@workspace_app.command("sync", epilog=SYNC_EXAMPLES)
def sync_workspace(
    workspace: WorkspaceOption = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Drop daglab's entries whose folder is gone.")
    ] = False,
    dry_run: DryRun = False,
    json_output: Json = False,
) -> None:
    """Register every Dagster project folder of the workspace once (a second run changes
    nothing)."""
    from daglab._workspace import sync

    changes = sync(_workspace(workspace), prune=prune, dry_run=dry_run)
    _report(changes, json_output=json_output, dry_run=dry_run)


@workspace_app.command("add", epilog=ADD_EXAMPLES)
def add_location(
    path: Annotated[
        Path | None, typer.Argument(help="A project folder inside the workspace.")
    ] = None,
    grpc: Annotated[
        str | None,
        typer.Option("--grpc", help="A running gRPC code server, HOST:PORT.", show_default=False),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="The location's name (default: as Dagster names it).", show_default=False
        ),
    ] = None,
    python: Annotated[
        Path | None,
        typer.Option(
            "--python",
            help="The interpreter the project runs under (executable_path); also for a"
            " project already listed.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    json_output: Json = False,
) -> None:
    """Register a project folder, or a gRPC code server with --grpc."""
    from daglab._errors import UsageError
    from daglab._workspace import add_grpc, register_project
    from daglab._workspace.edit import parse_grpc_target

    if (path is None) == (grpc is None):
        raise UsageError(
            "give either a project folder or --grpc HOST:PORT",
            remediation="daglab workspace add PATH, or daglab workspace add --grpc HOST:PORT",
        )
    ws = _workspace(workspace)
    if grpc is not None:
        host, port = parse_grpc_target(grpc)
        change = add_grpc(ws, host, port, name=name, dry_run=dry_run)
    else:
        assert path is not None  # noqa: S101  checked above
        change = register_project(ws, path, name=name, python=python, dry_run=dry_run)
    _report([change], json_output=json_output, dry_run=dry_run)


@workspace_app.command("remove", epilog=REMOVE_EXAMPLES)
def remove(
    name: Annotated[str, typer.Argument(help="The location's name.", show_default=False)],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    json_output: Json = False,
) -> None:
    """Remove a location daglab registered (its marked block, nothing else)."""
    from daglab._workspace import remove_location

    change = remove_location(_workspace(workspace), name, dry_run=dry_run)
    _report([change], json_output=json_output, dry_run=dry_run)


@workspace_app.command("export", epilog=EXPORT_EXAMPLES)
def export(
    output_format: Annotated[
        str, typer.Option("--format", help="What to write (workspace.yaml is the one format).")
    ] = "workspace.yaml",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where (default: workspace.yaml in the workspace root).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a file daglab did not write.")
    ] = False,
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    json_output: Json = False,
) -> None:
    """Write a lasting workspace.yaml for `dagster dev -w` from the workspace."""
    from daglab._errors import UsageError
    from daglab._workspace.export import write_export

    if output_format != "workspace.yaml":
        raise UsageError(
            f"--format {output_format!r} is not supported",
            remediation="Use --format workspace.yaml.",
        )
    ws = _workspace(workspace)
    change = write_export(ws, output, force=force, dry_run=dry_run)
    if dry_run and not json_output:
        from daglab._cli._output import console, safe

        console().print(safe(change.diff.rstrip("\n")), soft_wrap=True)
        return
    _report([change], json_output=json_output, dry_run=dry_run)


@workspace_app.command("restore", epilog=RESTORE_EXAMPLES)
def restore(
    backup: Annotated[
        str | None,
        typer.Argument(help="A backup's file name (none: list them).", show_default=False),
    ] = None,
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    json_output: Json = False,
) -> None:
    """Bring back a backup of the workspace file (the current one is backed up first)."""
    from daglab._workspace.write import list_backups
    from daglab._workspace.write import restore as restore_backup

    ws = _workspace(workspace)
    if backup is None:
        backups = list_backups(ws)
        if json_output:
            from daglab._cli._output import print_json

            print_json({"workspace": _header(ws), "backups": [str(p) for p in backups]})
            return
        from daglab._cli._output import console, safe

        out = console()
        if not backups:
            out.print(f"No backups of {safe(ws.file.name)} yet.")
        for path in backups:
            out.print(safe(path.name))
        return
    change = restore_backup(ws, backup, dry_run=dry_run)
    _report([change], json_output=json_output, dry_run=dry_run)
