"""Options every command that talks to Dagster shares, and the client they build."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab._url import SafeUrl

if TYPE_CHECKING:
    from daglab._cli._context import CliState
    from daglab._client import DagsterClient

DagsterPort = Annotated[
    int | None,
    typer.Option(
        "--dagster-port",
        help="Webserver port (overrides dagster.port).",
        # Out of range is a usage error (exit 2) in every command, as in `dev`; a port from
        # daglab.yaml or DAGLAB_* out of range is a configuration error (exit 7) naming the key.
        min=1,
        max=65535,
        metavar="PORT",
        show_default=False,
    ),
]
DagsterUrl = Annotated[
    SafeUrl | None,
    typer.Option(
        "--url",
        help="Full webserver URL, e.g. https://acme.dagster.cloud/prod (overrides dagster.url).",
        # A SafeUrl from the start: a password in the flag is never shown or written anywhere.
        parser=SafeUrl,
        metavar="URL",
        show_default=False,
    ),
]
Repository = Annotated[
    str | None,
    typer.Option("--repo", help="Repository (default: found from the job).", show_default=False),
]
Location = Annotated[
    str | None,
    typer.Option(
        "--location", help="Code location (default: found from the job).", show_default=False
    ),
]
AuthToken = Annotated[
    str | None,
    typer.Option(
        "--auth-token",
        help="Token for the webserver; prefer the variable named by dagster.auth.token_env.",
        show_default=False,
    ),
]


def endpoint_overrides(port: int | None, url: SafeUrl | None) -> dict[str, Any]:
    return {"dagster.port": port, "dagster.url": url}


def make_client(
    state: CliState,
    *,
    port: int | None,
    url: SafeUrl | None,
    token: str | None,
    sandbox: bool | None = None,
    launched_by: str = "cli",
) -> DagsterClient:
    from daglab._client import DagsterClient
    from daglab._logging import register_secret

    register_secret(token)
    loaded = state.load(overrides=endpoint_overrides(port, url))
    return DagsterClient.from_config(
        loaded, token=token, sandbox=sandbox or None, launched_by=launched_by
    )
