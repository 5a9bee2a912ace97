"""``daglab deploy configure``: deployment files for the workspace's code locations."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

deploy_app = typer.Typer(
    help="Deployment files for the workspace's code locations (Dagster+, Helm, your own server).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

CONFIGURE_EXAMPLES = """[bold]Examples[/]

  daglab deploy configure --target prod --strategy plus-serverless   dagster_cloud.yaml

  daglab deploy configure --target prod --strategy plus-hybrid --registry ghcr.io/acme

  daglab deploy configure --target k8s --strategy helm --registry ghcr.io/acme --image-tag 1.4.0

  daglab deploy configure --target box --strategy git --install-root /srv/dagster

  daglab deploy configure --target box --strategy rsync --dry-run     show, write nothing

Files go to deploy/TARGET/ (dagster_cloud.yaml at the workspace root). A file daglab did not
write is left alone unless --force; a second run with nothing changed writes nothing."""


class Strategy(str, Enum):
    plus_serverless = "plus-serverless"
    plus_hybrid = "plus-hybrid"
    helm = "helm"
    git = "git"
    rsync = "rsync"


def register(app: typer.Typer) -> None:
    app.add_typer(deploy_app, name="deploy")


@deploy_app.command("configure", epilog=CONFIGURE_EXAMPLES)
def configure(
    target: Annotated[
        str,
        typer.Option("--target", help="Name of the deployment (deploy/NAME/).", show_default=False),
    ],
    strategy: Annotated[
        Strategy, typer.Option("--strategy", help="Where it runs.", show_default=False)
    ],
    path: Annotated[
        Path,
        typer.Option(
            "--path", help="A folder in the workspace (default: here).", show_default=False
        ),
    ] = Path(),
    base_port: Annotated[
        int,
        typer.Option("--base-port", help="First code-server port for modules that record none."),
    ] = 4000,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="helm, plus-hybrid: image registry; each location's image is REGISTRY/NAME.",
            show_default=False,
        ),
    ] = None,
    image_tag: Annotated[
        str | None,
        typer.Option(
            "--image-tag", help="helm: image tag (default: the chart's).", show_default=False
        ),
    ] = None,
    install_root: Annotated[
        str | None,
        typer.Option(
            "--install-root",
            help="git, rsync: the copy on the server (default /opt/daglab/TARGET).",
            show_default=False,
        ),
    ] = None,
    venv: Annotated[
        str | None,
        typer.Option(
            "--venv",
            help="git, rsync: the server's virtual environment (default INSTALL_ROOT/.venv).",
            show_default=False,
        ),
    ] = None,
    env_dir: Annotated[
        str | None,
        typer.Option(
            "--env-dir",
            help="git, rsync: folder of LOCATION.env files (default /etc/daglab/TARGET).",
            show_default=False,
        ),
    ] = None,
    dagster_home: Annotated[
        str | None,
        typer.Option(
            "--dagster-home",
            help="git, rsync: DAGSTER_HOME on the server (default /var/lib/daglab/TARGET).",
            show_default=False,
        ),
    ] = None,
    webserver_host: Annotated[
        str,
        typer.Option(
            "--webserver-host",
            help="git, rsync: the address the webserver binds (put a proxy with auth in front).",
        ),
    ] = "127.0.0.1",
    webserver_port: Annotated[
        int, typer.Option("--webserver-port", help="git, rsync: the webserver's port.")
    ] = 3000,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="git, rsync: the account the services run as.", show_default=False
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files daglab did not write.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write the deployment files of TARGET: a Dagster+ [cyan]dagster_cloud.yaml[/], a
    dagster-user-deployments Helm values file, or a self-hosted server's deploy script, systemd
    units and [cyan]workspace.yaml[/].

    Reads the workspace's code locations and each module's [cyan][tool.daglab.module][/] (port,
    environment variable names). Checks what it writes with the tools that will read it:
    dagster-cloud-cli's model for dagster_cloud.yaml, the chart's values.schema.json (vendored)
    for Helm values. Environment variables appear by name only, never a value.
    """
    from daglab._deploy import Options
    from daglab._deploy import configure as run_configure

    plan = run_configure(
        path,
        target,
        strategy.value,
        options=Options(
            base_port=base_port,
            registry=registry,
            image_tag=image_tag,
            install_root=install_root,
            venv=venv,
            env_dir=env_dir,
            dagster_home=dagster_home,
            webserver_host=webserver_host,
            webserver_port=webserver_port,
            user=user,
        ),
        dry_run=dry_run,
        force=force,
    )
    if json_output:
        from daglab._cli._output import print_json

        print_json(plan.to_dict())
        return
    from rich.table import Table

    from daglab._cli._output import ACTION_STYLE, console, safe

    out = console()
    if dry_run:
        for item in plan.files:
            if item.action == "unchanged":
                continue
            rel = item.path.relative_to(plan.root).as_posix()
            out.print(f"[bold]── {safe(rel)}[/] [dim](would be {item.action})[/]")
            out.print(safe(item.content), end="", soft_wrap=True)
    table = Table("location", "module / file", "port", "env", box=None, show_header=True)
    for location in plan.locations:
        table.add_row(
            safe(location.name),
            safe(location.module or location.file or f"{location.grpc_host} (gRPC)"),
            f"{location.port} ({location.port_source})",
            safe(", ".join(location.env) or "-"),
        )
    out.print(table)
    verb = "[dim]would be[/] " if dry_run else ""
    for item in plan.files:
        rel = item.path.relative_to(plan.root).as_posix()
        style = {**ACTION_STYLE, "removed": "[red]removed[/]"}.get(item.action, item.action)
        out.print(f"  {verb}{style} {safe(rel)}")
    for check in plan.checks:
        mark = "[green]✓[/]" if check.status == "ok" else "[yellow]-[/]"
        out.print(f"{mark} {safe(check.name)}: {safe(check.detail)}")
    for note in plan.notes:
        out.print(f"[dim]•[/] {safe(note)}")
    if not plan.changed and not dry_run:
        out.print("[dim]Nothing changed.[/]")
