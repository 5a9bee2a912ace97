"""``daglab init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daglab._cli._context import CliState

EXAMPLES = """[bold]Examples[/]

  daglab init                                   add daglab to the Dagster project here

  daglab init --bootstrap my_project            new Dagster project (standard template)

  daglab init --bootstrap demo --template ml --ports dagster=3001,marimo=3011

  daglab init --notebooks-dir src/pkg/notebooks --tasks just"""


def register(app: typer.Typer) -> None:
    app.command("init", epilog=EXAMPLES)(init)


def init(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help="Project folder (created with --bootstrap). Default: the current folder.",
            show_default=False,
        ),
    ] = Path(),
    bootstrap: Annotated[
        bool, typer.Option("--bootstrap", help="Create a new Dagster project first.")
    ] = False,
    template: Annotated[
        str,
        typer.Option(
            "--template",
            help="Project template for --bootstrap: minimal, standard or ml.",
        ),
    ] = "standard",
    package_name: Annotated[
        str | None,
        typer.Option(
            "--package-name",
            help="Code package name for --bootstrap (default: from the folder name).",
            show_default=False,
        ),
    ] = None,
    notebooks_dir: Annotated[
        str | None,
        typer.Option(
            "--notebooks-dir",
            help="Where paired notebooks live, relative to the project root"
            " (default: <code package>/notebooks).",
            show_default=False,
        ),
    ] = None,
    ports: Annotated[
        str | None,
        typer.Option(
            "--ports",
            help="Ports to record, e.g. dagster=3000,marimo=3010.",
            show_default=False,
        ),
    ] = None,
    no_examples: Annotated[
        bool, typer.Option("--no-examples", help="Skip the example notebooks and README.")
    ] = False,
    tasks: Annotated[
        str,
        typer.Option("--tasks", help="Also add task-runner targets: none, just or make."),
    ] = "none",
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    no_register: Annotated[
        bool,
        typer.Option(
            "--no-register",
            help="With --bootstrap inside a workspace (dg.toml or workspace.yaml): do not add"
            " the new project to it.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Set up daglab in a Dagster project, or [bold]--bootstrap[/] a new one.

    Creates [cyan].daglab/[/], the notebooks folder, [cyan]daglab.yaml[/] filled from what it
    detects, and [cyan].gitignore[/] entries. Running it again changes nothing unless --force.
    """
    from daglab._errors import UsageError
    from daglab._init import InitOptions, init_project, parse_ports
    from daglab._scaffold.project import TEMPLATES

    state: CliState = ctx.ensure_object(CliState)
    if template not in TEMPLATES:
        raise UsageError(
            f"--template {template!r} is not one of {', '.join(TEMPLATES)}",
            remediation="Use --template minimal, standard or ml.",
        )
    if tasks not in ("none", "just", "make"):
        raise UsageError(
            f"--tasks {tasks!r} is not one of none, just, make",
            remediation="Use --tasks just or --tasks make.",
        )
    if template != "standard" and not bootstrap:
        raise UsageError("--template only applies with --bootstrap")
    port_map = parse_ports(ports) if ports else {}
    state.load(start=path.resolve() if path.is_dir() else None)
    result = init_project(
        InitOptions(
            path=path,
            bootstrap=bootstrap,
            template=template,
            package_name=package_name,
            notebooks_dir=notebooks_dir,
            dagster_port=port_map.get("dagster", 3000),
            marimo_port=port_map.get("marimo", 3010),
            examples=not no_examples,
            force=force,
            tasks=tasks,  # type: ignore[arg-type]
            register=not no_register,
        )
    )
    _render(result, json_output)


def _render(result: object, json_output: bool) -> None:
    from daglab._cli._output import ACTION_STYLE, console, print_json, safe
    from daglab._init import InitResult

    assert isinstance(result, InitResult)  # noqa: S101  type narrowing, an invariant
    project = result.project
    if json_output:
        print_json(
            {
                "mode": result.mode,
                "root": str(project.root),
                "kind": project.kind,
                "package": project.package,
                "location_name": project.location_name,
                "locations": list(project.locations),
                "notebooks_dir": str(result.notebooks_dir),
                "changed": result.changed,
                "files": [
                    {"path": project.relative(item.path), "action": item.action}
                    for item in result.files
                ],
                "next_steps": result.next_steps,
                "warnings": result.warnings,
                "registration": result.registration,
            }
        )
        return
    out = console()
    title = "Bootstrapped a new Dagster project" if result.mode == "bootstrap" else "daglab set up"
    out.print(
        f"[bold]{title}[/] in {safe(project.root)} ({project.kind}, package {project.package})"
    )
    if project.locations:
        names = ", ".join(project.locations)
        out.print(f"Code locations: {safe(names)}")
    for item in result.files:
        out.print(f"  {ACTION_STYLE[item.action]:<12} {safe(project.relative(item.path))}")
    if not result.changed:
        out.print("[dim]Nothing changed; pass --force to overwrite.[/]")
    if result.registration:
        out.print(safe(result.registration))
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {safe(warning)}")
    out.print("\n[bold]Next steps[/]")
    for step in result.next_steps:
        out.print(f"  {safe(step)}")
