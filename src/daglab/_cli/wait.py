"""``daglab wait RUN_ID``: follow a run that is already in Dagster until it ends."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, make_client

EXAMPLES = """[bold]Examples[/]

  daglab wait 3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4c7a11

  daglab wait 3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4c7a11 --timeout 600 --json

  daglab run --job slow_job --no-wait --json | jq -r .run_id | xargs daglab wait

Exit codes as for `daglab run --wait`: 0 the run succeeded, 4 it failed, was canceled or \
the timeout passed, 5 the webserver stayed unreachable (past \
dagster.graphql.wait_outage_seconds), 7 no run has that id."""


def register(app: typer.Typer) -> None:
    app.command("wait", epilog=EXAMPLES)(wait)


def wait(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run's id, as `daglab run` printed it.")],
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds to wait (default: performance.max_wait_time).",
            min=0.1,
            show_default=False,
        ),
    ] = None,
    cancel_on_timeout: Annotated[
        bool, typer.Option("--cancel-on-timeout", help="Cancel the run if the timeout passes.")
    ] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print no progress; only errors (and --json)."),
    ] = False,
) -> None:
    """Wait for a run already launched (by daglab or anyone) until it ends.

    Resumes a wait that an outage of the webserver interrupted: the error of `daglab run` names
    the command. Waiting rides out an outage of up to dagster.graphql.wait_outage_seconds.
    Shows each step's start and end while waiting (--quiet: none); --json prints the same
    report as `daglab run --json`, whether the run succeeded or not.
    """
    from daglab._cli.run import report_outcome, wait_for
    from daglab._client import Run
    from daglab._partitions._single_run import RANGE_START_TAG

    state: CliState = ctx.ensure_object(CliState)
    client = make_client(state, port=dagster_port, url=url, token=auth_token)
    assert state.loaded is not None  # noqa: S101  type narrowing, an invariant
    limit = timeout if timeout is not None else state.loaded.config.performance.max_wait_time
    # Not looked up first: the wait itself rides out a webserver that is still coming back.
    pending = Run(run_id, "UNKNOWN", url=client.run_url(run_id))
    with client:
        outcome, shown = wait_for(
            client, pending, limit, cancel_on_timeout, json_output, quiet=quiet
        )
        if outcome.run.tags.get(RANGE_START_TAG):
            outcome.launch = "single-run"
    report_outcome(outcome, limit, json_output, quiet=quiet, shown=shown)
