"""What ``daglab dev`` will start, decided and checked before anything starts."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from daglab._compat.commands import dagster_dev_args, marimo_edit_args
from daglab._sidecar.commands import dagster_command, marimo_command, served_workspace_file
from daglab._sidecar.env import dagster_home, read_env_file
from daglab._sidecar.ports import (
    DEFAULT_HOST,
    LAST_PORTS,
    candidate_ports,
    check_host,
    choose_port,
    connect_host,
    http_url,
    is_loopback,
)

if TYPE_CHECKING:
    from daglab._config import LoadedConfig


@dataclass(frozen=True)
class DevOptions:
    """``daglab dev``'s flags, after parsing."""

    dagster_port: int | None = None
    marimo_port: int | None = None
    port_range: tuple[int, int] | None = None
    host: str = DEFAULT_HOST
    token: bool = True
    env_file: Path | None = None
    ci: bool = False
    open_browser: bool | None = None
    sandbox: bool = False
    log_level: str | None = None
    grace: float = 15.0
    dagster_timeout: float = 180.0
    marimo_timeout: float = 120.0
    sample_interval: float = 5.0
    show_interval: float = 30.0


@dataclass(frozen=True)
class ServiceSpec:
    """One child: what to run, where, and how to tell it is up and to stop it."""

    name: str
    label: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    cwd: Path
    host: str
    port: int
    stop_signal: int
    ready_path: str | None = None  # an HTTP path answering 200 once up; None: the port accepts
    stdin_data: bytes | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)


@dataclass(frozen=True)
class DevPlan:
    """Everything ``daglab dev`` will start, resolved and checked before anything starts."""

    root: Path
    notebook: Path
    dagster: ServiceSpec
    marimo: ServiceSpec
    token: str | None = field(repr=False)
    options: DevOptions
    open_browser: bool
    log_file: Path | None
    notes: tuple[tuple[str, str], ...] = ()  # (level, message) to show before starting
    #: Files whose change restarts the Dagster child (the workspace file it serves).
    watch: tuple[Path, ...] = ()

    @property
    def marimo_url(self) -> str:
        """marimo's URL with the access token (show it to the user, never log it)."""
        base = self.marimo.url
        return f"{base}/?access_token={self.token}" if self.token else base

    @property
    def last_ports_path(self) -> Path:
        return self.root / LAST_PORTS


def build_plan(loaded: LoadedConfig, notebook: Path, options: DevOptions) -> DevPlan:
    """Check everything and decide commands, ports and environments; starts nothing.

    Raises the error a user can act on: 3 (no project, no code location, Dagster or marimo
    missing), 7 (the env file), 8 (no free port).
    """
    import secrets

    from daglab._logging import register_secret, register_secrets_from_env

    project = loaded.project
    config = loaded.config
    root = project.root
    check_host(options.host, token=options.token)
    dagster_argv, dagster_label = dagster_command(project)
    workspace_file = served_workspace_file(project, dagster_label)
    if workspace_file is not None and dagster_label == "dagster dev":
        dagster_argv = [*dagster_argv, "-w", str(workspace_file)]
    marimo_argv = marimo_command()

    base_env = dict(os.environ)
    if options.env_file is not None:
        extra = read_env_file(options.env_file)
        register_secrets_from_env(extra)
        base_env.update(extra)
    base_env["PYTHONUNBUFFERED"] = "1"
    notes: list[tuple[str, str]] = []

    dagster_env = dict(base_env)
    home_note = dagster_home(dagster_env, root)
    if home_note is not None:
        notes.append(home_note)

    host = options.host
    wanted_dagster = options.dagster_port or config.dagster.port
    wanted_marimo = options.marimo_port or config.marimo.port
    dagster_port = choose_port(
        "Dagster",
        wanted_dagster,
        host=host,
        port_range=options.port_range,
        flag="--dagster-port",
    )
    marimo_port = choose_port(
        "marimo",
        wanted_marimo,
        host=host,
        port_range=options.port_range,
        taken=(dagster_port,),
        flag="--marimo-port",
    )
    for label, wanted, got in (
        ("Dagster", wanted_dagster, dagster_port),
        ("marimo", wanted_marimo, marimo_port),
    ):
        if wanted == got:
            continue
        if wanted in candidate_ports(wanted, options.port_range):
            notes.append(("warning", f"port {wanted} is busy: {label} uses {got}"))
        else:
            notes.append(("info", f"{label} uses port {got} from --port-range"))
    if not is_loopback(host):
        notes.append(
            (
                "warning",
                f"serving on {host}: marimo asks for its token, but Dagster's webserver has no"
                " authentication of its own; anyone who reaches the port can launch runs",
            )
        )

    level = options.log_level
    dagster_args = dagster_dev_args(dagster_argv, host, dagster_port, level)
    dagster = ServiceSpec(
        name="dagster",
        label=dagster_label,
        argv=tuple(dagster_args),
        env=dagster_env,
        cwd=root,
        host=host,
        port=dagster_port,
        stop_signal=int(signal.SIGINT),  # what `dagster dev` expects (it relays it onwards)
        ready_path="/server_info",
    )

    token = secrets.token_urlsafe(24) if options.token else None
    register_secret(token)
    marimo_env = dict(base_env)
    marimo_env.update(
        {
            # Notebooks connect to this Dagster, wherever its port ended up.
            "DAGLAB_DAGSTER__URL": dagster.url,
            "DAGLAB_DAGSTER__HOST": connect_host(host),
            "DAGLAB_DAGSTER__PORT": str(dagster_port),
        }
    )
    if options.sandbox or config.security.sandbox_mode:
        marimo_env["DAGLAB_SECURITY__SANDBOX_MODE"] = "true"
    marimo_args = marimo_edit_args(
        marimo_argv,
        notebook,
        host=host,
        port=marimo_port,
        token=token is not None,
        ci=options.ci,
        level=level,
    )
    marimo = ServiceSpec(
        name="marimo",
        label="marimo edit",
        argv=tuple(marimo_args),
        env=marimo_env,
        cwd=root,
        host=host,
        port=marimo_port,
        stop_signal=int(signal.SIGTERM),
        ready_path=None,
        stdin_data=(token + "\n").encode() if token else None,
    )
    open_browser = (
        options.open_browser if options.open_browser is not None else config.defaults.open_browser
    )
    return DevPlan(
        root=root,
        notebook=notebook,
        dagster=dagster,
        marimo=marimo,
        token=token,
        options=options,
        open_browser=open_browser and not options.ci,
        log_file=loaded.log_file(),
        notes=tuple(notes),
        watch=(workspace_file,) if workspace_file is not None else (),
    )
