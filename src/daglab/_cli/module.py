"""``daglab module new|update``: generate code locations from templates, keep them current."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from daglab._modules.new import NewResult
    from daglab._modules.update import ModuleUpdate

module_app = typer.Typer(
    help="Generate code locations (modules) from daglab's templates and keep them current.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

NEW_EXAMPLES = """[bold]Examples[/]

  daglab module new sales                      asks on a terminal

  daglab module new sales --template standard --addon postgres --port auto

  daglab module new nightly --defaults --addon schedule --cron "0 2 * * *"

  daglab module new scratch --defaults --no-register

In a workspace (dg.toml or workspace.yaml) it goes under projects/ and is
registered; elsewhere into ./NAME. Without a terminal a missing answer exits
2 (--defaults takes the defaults: standard, no addons, port auto, 06:00 UTC).
Database URLs come from NAME_POSTGRES_URL / NAME_MYSQL_URL at run time."""

UPDATE_EXAMPLES = """[bold]Examples[/]

  daglab module update sales --dry-run    the diff the templates would bring

  daglab module update sales              merge them, keeping your edits

  daglab module update --all              every module of the workspace

Refuses (exit 8) before changing anything when git has uncommitted changes
under a module or conflict markers are left; a conflicting merge leaves the
markers, lists the files and exits 8."""

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="The workspace (folder, dg.toml or workspace.yaml). Default: the one around here.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(module_app, name="module")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(
    flag: str,
    question: str,
    default: str,
    *,
    asked: bool,
    defaults: bool,
    check: Callable[[str], object] | None = None,
) -> str:
    """An answer missing from the flags: the default with --defaults, asked on a terminal
    (again, after saying why, until ``check`` takes it), else a usage error naming the flag."""
    from daglab._errors import DaglabError, UsageError

    if defaults:
        return default
    if not asked:
        raise UsageError(
            f"{flag} is missing and there is no terminal to ask on",
            remediation=f"Pass {flag} (or --defaults to take daglab's default answers).",
        )
    while True:
        answer = str(typer.prompt(question, default=default)).strip()
        try:
            if check is not None:
                check(answer)
        except DaglabError as exc:
            typer.echo(f"{exc.message}. {exc.remediation}", err=True)
            continue
        return answer


def _check_template(answer: str) -> None:
    from daglab._errors import UsageError
    from daglab._modules.meta import TEMPLATES

    if answer not in TEMPLATES:
        raise UsageError(
            f"--template {answer!r} is not one of {', '.join(TEMPLATES)}",
            remediation="Use --template minimal, standard or ml.",
        )


@module_app.command("new", epilog=NEW_EXAMPLES)
def new(
    name: Annotated[str, typer.Argument(help="Module name: its folder and code location.")],
    template: Annotated[
        str | None,
        typer.Option("--template", help="minimal, standard or ml.", show_default=False),
    ] = None,
    addon: Annotated[
        list[str] | None,
        typer.Option(
            "--addon",
            help="postgres, mysql or schedule; repeat for several, or `none`.",
            show_default=False,
        ),
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option(
            "--cron", help="The schedule addon's cron, e.g. '0 6 * * *'.", show_default=False
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="The schedule addon's IANA time zone.", show_default=False),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            "--port",
            help="Code-server port: a number, or auto (free, and no other module's).",
            show_default=False,
        ),
    ] = None,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            help="Folder to create (default: projects/NAME or ./NAME).",
            show_default=False,
        ),
    ] = None,
    package_name: Annotated[
        str | None,
        typer.Option(
            "--package-name", help="Code package (default: from NAME).", show_default=False
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    no_register: Annotated[
        bool, typer.Option("--no-register", help="Do not add it to the workspace.")
    ] = False,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Take the default for every answer not given.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Render an existing module again: files daglab wrote and nobody changed are"
            " replaced, files you changed are kept.",
        ),
    ] = False,
    json_output: Json = False,
) -> None:
    """Generate a new module (a Dagster code location) from daglab's templates and addons."""
    from daglab._modules.meta import ADDONS, TEMPLATES
    from daglab._modules.new import NewOptions, new_module
    from daglab._modules.ports import parse_port
    from daglab._modules.render import (
        DEFAULT_CRON,
        DEFAULT_TIMEZONE,
        check_cron,
        check_name,
        check_timezone,
    )

    check_name(name)
    existing = _existing(name, path, workspace)
    asked = _interactive() and not json_output
    if template is None and not existing:
        template = _ask(
            "--template",
            f"Template ({', '.join(TEMPLATES)})",
            "standard",
            asked=asked,
            defaults=defaults,
            check=_check_template,
        )
    if template is not None:
        _check_template(template)
    addons: tuple[str, ...] | None = None
    if addon is None and not existing:
        answer = _ask(
            "--addon",
            f"Addons, comma-separated ({', '.join(ADDONS)}), or none",
            "none",
            asked=asked,
            defaults=defaults,
            check=lambda answer: _addons([answer]),
        )
        addon = [answer]
    if addon is not None:
        addons = _addons(addon)
    if addons is not None and "schedule" in addons and not existing:
        if cron is None:
            cron = _ask(
                "--cron", "Schedule cron", DEFAULT_CRON, asked=asked, defaults=defaults,
                check=check_cron,
            )  # fmt: skip
        if timezone is None:
            timezone = _ask(
                "--timezone", "Schedule time zone", DEFAULT_TIMEZONE, asked=asked,
                defaults=defaults, check=check_timezone,
            )  # fmt: skip
    if port is None and not existing:
        port = _ask(
            "--port", "Code-server port (a number or auto)", "auto", asked=asked,
            defaults=defaults, check=parse_port,
        )  # fmt: skip
    result = new_module(
        NewOptions(
            name=name,
            template=template,
            addons=addons,
            port=parse_port(port) if port is not None else None,
            cron=cron,
            timezone=timezone,
            path=path,
            package_name=package_name,
            workspace=workspace,
            register=not no_register,
            force=force,
        )
    )
    _render_new(result, json_output)


def _existing(name: str, path: Path | None, workspace: Path | None) -> bool:
    """Whether the module is already there (its answers are then taken from its record)."""
    from daglab._modules import workspace as ws_lib
    from daglab._modules.meta import read_module_meta
    from daglab._modules.new import NewOptions, target_folder

    options = NewOptions(name=name, path=path, workspace=workspace)
    found = None if path is not None else ws_lib.find(options.cwd, workspace)
    target = target_folder(options, found)
    return target.is_dir() and read_module_meta(target) is not None


def _addons(given: list[str]) -> tuple[str, ...]:
    from daglab._errors import UsageError
    from daglab._modules.meta import ADDONS

    names = [part.strip().lower() for item in given for part in item.split(",") if part.strip()]
    if names == ["none"] or not names:
        return ()
    unknown = [n for n in names if n not in ADDONS]
    if unknown:
        raise UsageError(
            f"--addon {unknown[0]!r} is not one of {', '.join(ADDONS)} (or none)",
            remediation="Use --addon postgres, --addon mysql, --addon schedule or --addon none.",
        )
    return tuple(names)


def _render_new(result: NewResult, json_output: bool) -> None:
    from daglab._cli._output import console, print_json, safe

    root = result.root
    rel = {item.path: item.path.relative_to(root).as_posix() for item in result.files}
    if json_output:
        print_json(
            {
                "root": str(root),
                "answers": result.answers.to_dict(),
                "env": list(result.answers.env),
                "existed": result.existed,
                "changed": result.changed,
                "workspace": str(result.workspace_file) if result.workspace_file else None,
                "registered": result.registered,
                "registration": result.registration,
                "files": [{"path": rel[i.path], "action": i.action} for i in result.files],
                "notes": result.notes,
            }
        )
        return
    out = console()
    answers = result.answers
    addons = ", ".join(answers.addons) or "no addons"
    if result.existed and not result.changed:
        out.print(
            f"Module [bold]{safe(answers.name)}[/] already exists at {safe(root)}: nothing changed."
        )
    else:
        verb = "Rendered again" if result.existed else "Generated"
        out.print(
            f"[bold]{verb} module {safe(answers.name)}[/] at {safe(root)}"
            f" ({answers.template}, {addons}, code-server port {answers.port})"
        )
        for item in result.files:
            if item.action != "unchanged":
                out.print(f"  {_STYLE.get(item.action, item.action):<12} {safe(rel[item.path])}")
    if result.registration:
        out.print(safe(result.registration))
    for note in result.notes:
        out.print(f"[yellow]note:[/] {safe(note)}")
    if answers.env:
        out.print("Set at run time (never in a file): " + ", ".join(answers.env))
    if not result.existed:
        out.print("\n[bold]Next steps[/]")
        out.print(f"  cd {safe(root)} && pip install -e '.\\[dev]' && pytest")
        if result.registered:
            out.print("  restart a running `dagster dev` / `dg dev` to load the new location")


_STYLE = {
    "created": "[green]created[/]",
    "overwritten": "[yellow]overwritten[/]",
    "updated": "[cyan]updated[/]",
    "kept": "[yellow]kept (yours)[/]",
    "missing": "[yellow]missing[/]",
    "added": "[green]added[/]",
    "merged": "[cyan]merged[/]",
    "conflict": "[red]conflict[/]",
    "removed": "[yellow]removed[/]",
}


@module_app.command("update", epilog=UPDATE_EXAMPLES)
def update(
    name: Annotated[
        str | None,
        typer.Argument(
            help="Module name or folder (default: the module here).", show_default=False
        ),
    ] = None,
    all_modules: Annotated[
        bool, typer.Option("--all", help="Every module of the workspace daglab generated.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff; change nothing.")
    ] = False,
    workspace: WorkspaceOption = None,
    json_output: Json = False,
) -> None:
    """Re-apply the current templates to generated modules, merging with your edits."""
    from daglab._errors import ConflictError, UsageError
    from daglab._modules.locate import find_modules
    from daglab._modules.update import update_modules

    if name and all_modules:
        raise UsageError("give a module NAME or --all, not both")
    roots = find_modules(Path.cwd(), name, all_modules=all_modules, workspace=workspace)
    results = update_modules(roots, dry_run=dry_run)
    _render_update(results, json_output)
    conflicts = [f"{r.name}: {path}" for r in results for path in r.conflicts]
    if conflicts and json_output:  # the JSON above lists them; one document on stdout
        from daglab._errors import ExitCode

        raise typer.Exit(int(ExitCode.CONFLICT))
    if conflicts:
        raise ConflictError(
            f"the merge left conflict markers in {len(conflicts)} file(s): {', '.join(conflicts)}",
            remediation="Resolve the <<<<<<< yours / >>>>>>> template blocks, then commit."
            if not dry_run
            else "Run without --dry-run, then resolve the conflicts it leaves.",
            files=conflicts,
        )


def _render_update(results: list[ModuleUpdate], json_output: bool) -> None:
    from daglab._cli._output import console, print_json, safe

    if json_output:
        print_json(
            [
                {
                    "module": r.name,
                    "root": str(r.root),
                    "dry_run": r.dry_run,
                    "changed": r.changed,
                    "conflicts": r.conflicts,
                    "files": [
                        {"path": f.path, "action": f.action}
                        | ({"diff": f.diff()} if r.dry_run else {})
                        for f in r.files
                        if f.action != "unchanged"
                    ],
                }
                for r in results
            ]
        )
        return
    out = console()
    for result in results:
        state = "would change" if result.dry_run else "updated"
        if not result.changed:
            out.print(
                f"[bold]{safe(result.name)}[/]: current with daglab's templates; nothing to do."
            )
            continue
        out.print(f"[bold]{safe(result.name)}[/] ({safe(result.root)}): {state}")
        for item in result.files:
            if item.action == "unchanged":
                continue
            out.print(f"  {_STYLE.get(item.action, item.action):<12} {safe(item.path)}")
        if result.dry_run:
            diffs = console(soft_wrap=True)
            for item in result.files:
                if item.diff():
                    diffs.print(item.diff(), markup=False, end="")
