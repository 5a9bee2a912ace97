"""``daglab run``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import (
    AuthToken,
    DagsterPort,
    DagsterUrl,
    Location,
    Repository,
    make_client,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from daglab._client import DagsterClient, Run
    from daglab._runs import Outcome

EXAMPLES = """[bold]Examples[/]

  daglab run --job configurable_job --config-yaml '{ops: {multiply: {config: {multiplier: 2}}}}'

  daglab run --asset-selection orders/raw_orders,orders/cleaned_orders

  daglab run --asset-pattern 'orders/*' --no-wait --json

  daglab run --job my_job --run-config run.yaml --validate-only

  daglab run --job slow_job --timeout 60 --cancel-on-timeout

  daglab run --job train --sweep configs.py --parallel 2 --fail-fast

  daglab run --asset-selection shop/daily_sales --partition 2024-01-05

  daglab run --asset-selection shop/daily_sales --partition-range 2024-01-01...2024-01-30

  daglab run --job partitioned_job --all-partitions --no-wait

  daglab run --asset-selection shop/regional_daily --partition date=2024-01-05,region=eu"""


def register(app: typer.Typer) -> None:
    app.command("run", epilog=EXAMPLES)(run)


def run(
    ctx: typer.Context,
    job: Annotated[
        str | None, typer.Option("--job", help="Job to run.", show_default=False)
    ] = None,
    repo: Repository = None,
    location: Location = None,
    asset_selection: Annotated[
        str | None,
        typer.Option(
            "--asset-selection", help="Asset keys to materialize: a/b,c/d.", show_default=False
        ),
    ] = None,
    asset_pattern: Annotated[
        str | None,
        typer.Option(
            "--asset-pattern",
            help="Globs on asset keys, comma-separated: 'orders/*' or 'orders/*,raw_*'.",
            show_default=False,
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            help="Partition key to run; multi-dimensional as dim=key,dim=key.",
            show_default=False,
        ),
    ] = None,
    partition_range: Annotated[
        str | None,
        typer.Option(
            "--partition-range",
            help="START...END: a backfill of every partition from START to END (inclusive).",
            show_default=False,
        ),
    ] = None,
    all_partitions: Annotated[
        bool, typer.Option("--all-partitions", help="A backfill of every partition.")
    ] = False,
    run_config: Annotated[
        Path | None,
        typer.Option("--run-config", help="Run config YAML file.", show_default=False),
    ] = None,
    config_yaml: Annotated[
        str | None,
        typer.Option("--config-yaml", help="Run config as inline YAML.", show_default=False),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Run tag KEY=VALUE (repeatable).", show_default=False),
    ] = None,
    validate_only: Annotated[
        bool, typer.Option("--validate-only", help="Validate the run config; launch nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the run to finish.")
    ] = True,
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
    sweep: Annotated[
        Path | None,
        typer.Option(
            "--sweep",
            help="Python file defining CONFIG or config_gen(): one run per config.",
            show_default=False,
        ),
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option(
            "--parallel",
            help="Sweep runs in flight at once (default: performance.max_concurrent_runs).",
            min=1,
            show_default=False,
        ),
    ] = None,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Sweep runs one after another.")
    ] = False,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Start no new sweep run after one fails.")
    ] = False,
    max_configs: Annotated[
        int | None,
        typer.Option(
            "--max-configs",
            help="Most configs a sweep may give; more is an error, nothing launched"
            " (default: performance.sweep_max_configs).",
            min=1,
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Launch a large sweep without asking (see sweep_confirm_above)."
        ),
    ] = False,
    sandbox: Annotated[
        bool,
        typer.Option("--sandbox", help="Refuse mutations not in security.allowed_operations."),
    ] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Launch a job or an asset selection in Dagster, and wait for it.

    The run config is validated by Dagster first: invalid config exits 7 and creates no run.
    A failed or canceled run exits 4, with the failing step and its error; so does a run whose
    asset checks failed with ERROR severity (WARN failures are printed, exit 0). A partition
    that does not exist is exit 7 before anything is launched; --partition-range and
    --all-partitions launch one Dagster backfill, and --wait follows it to its end.
    """
    import time

    from daglab import _runs
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import UsageError
    from daglab._partitions._backfill import PartitionChoice

    started = time.monotonic()
    choice = PartitionChoice.from_flags(partition, partition_range, all_partitions)
    if choice is not None and sweep is not None:
        raise UsageError(
            "--sweep and the partition flags exclude each other",
            remediation="Give each config its partition in the sweep file instead.",
        )
    state: CliState = ctx.ensure_object(CliState)
    if sweep is not None and (run_config is not None or config_yaml is not None):
        raise UsageError("--sweep supplies the run configs; drop --run-config/--config-yaml")
    if sweep is not None and not wait:
        raise UsageError(
            "--sweep waits for its runs (each launch may wait for a free slot); drop --no-wait",
            remediation="Launch single runs with --no-wait and follow them with `daglab wait`.",
        )
    if sequential and parallel is not None:
        raise UsageError("give --sequential or --parallel, not both")
    config = _runs.parse_run_config(run_config, config_yaml)
    tags = _runs.parse_tags(tag or [])
    client = make_client(
        state,
        port=dagster_port,
        url=url,
        token=auth_token,
        sandbox=sandbox or None,
        launched_by="sweep" if sweep is not None else "cli",
    )
    assert state.loaded is not None  # noqa: S101  type narrowing, an invariant
    performance = state.loaded.config.performance
    out = console(stderr=True)
    if sweep is not None:  # a bad file fails before anything is contacted
        from daglab._cli._sweep import load_and_confirm

        loaded_sweep = load_and_confirm(
            sweep,
            performance,
            max_configs=max_configs,
            ask=not (yes or json_output or validate_only),
        )
    with client:
        target = _runs.resolve_target(
            client,
            job=job,
            repository=repo,
            location=location,
            asset_selection=asset_selection,
            asset_pattern=asset_pattern,
        )
        if sweep is not None:
            from daglab._cli._sweep import run_sweep_command

            run_sweep_command(
                client,
                target,
                loaded_sweep,
                tags=tags,
                parallel=1 if sequential else (parallel or performance.max_concurrent_runs),
                max_concurrent=performance.max_concurrent_runs,
                fail_fast=fail_fast,
                timeout=timeout if timeout is not None else performance.max_wait_time,
                cancel_on_timeout=cancel_on_timeout,
                validate_only=validate_only,
                json_output=json_output,
            )
            return
        plan = _runs.plan_partitions(client, target, choice)
        if plan.config is not None and not config:
            config = plan.config  # a partitioned job's config comes from its partition
        _runs.validate(client, target, config)
        if validate_only:
            if json_output:
                print_json({"valid": True, "target": target.label, "job": target.job.name})
            else:
                out.print(f"[green]✓[/] run config for {safe(target.label)} is valid")
            return

        def queued(position: int) -> None:
            if not json_output:
                out.print(f"waiting for a slot: position {position} in daglab's queue")

        limit = timeout if timeout is not None else performance.max_wait_time
        if plan.backfill:
            from daglab._cli._backfill import backfill_command

            backfill_command(
                client,
                target,
                plan,
                tags=tags,
                wait=wait,
                timeout=max(0.1, limit - (time.monotonic() - started)),
                json_output=json_output,
            )
            return
        tags = _runs.partition_tags(plan, tags)
        # --timeout bounds the whole command, the wait for a slot included; --no-wait waits for
        # a slot only as long as an explicit --timeout allows.
        allowed = limit if wait or timeout is not None else 0.0
        launched = _runs.launch(
            client,
            target,
            config,
            tags=tags,
            max_concurrent=performance.max_concurrent_runs,
            on_queue=queued,
            deadline=started + allowed,
        )
        if not json_output:
            out.print(f"Launched {safe(target.label)}: {launched.url}", soft_wrap=True)
        if not wait:
            if json_output:
                print_json(launched.to_dict())
            return
        left = max(0.1, limit - (time.monotonic() - started))
        outcome = wait_for(client, launched, left, cancel_on_timeout, json_output, stated=limit)
    report_outcome(outcome, limit, json_output)


def wait_for(
    client: DagsterClient,
    run: Run,
    limit: float,
    cancel_on_timeout: bool,
    json_output: bool,
    *,
    stated: float | None = None,
) -> Outcome:
    """Wait for ``run`` (a spinner at a terminal); shared by ``run`` and ``wait``.

    ``limit`` is the time left to wait; ``stated`` the --timeout it is left of.
    """
    from daglab import _runs
    from daglab._cli._output import console

    def finish(on_update: Callable[[Run, float], None] | None) -> Outcome:
        return _runs.finish(
            client,
            run,
            timeout=limit,
            cancel_on_timeout=cancel_on_timeout,
            on_update=on_update,
            stated_timeout=stated,
        )

    if json_output:
        return finish(None)
    with console(stderr=True).status("starting…") as status:

        def show(current: Run, elapsed: float) -> None:
            status.update(f"{current.status} · {elapsed:.1f} s")

        return finish(show)


def report_outcome(outcome: Outcome, limit: float, json_output: bool) -> None:
    """Print how the run ended, then raise (exit 4) unless it succeeded."""
    from daglab import _runs
    from daglab._cli._output import console, print_json, safe

    if json_output:
        if outcome.succeeded:
            print_json(outcome.to_dict())
        # otherwise the error report is the one JSON object, with the run in "details"
    else:
        out = console(stderr=True)
        run_ = outcome.run
        style = "green" if outcome.succeeded else "red"
        duration = f" in {run_.duration:.1f} s" if run_.duration is not None else ""
        out.print(f"[{style}]{run_.status}[/]{duration}  {run_.url}", soft_wrap=True)
        for failure in outcome.failures:
            out.print(f"  [red]✗[/] {safe(failure.describe())}")
        for check in outcome.checks:
            if check.passed:
                continue
            mark = "[red]✗[/]" if check.severity == "ERROR" else "[yellow]![/]"
            about = f" — {check.description}" if check.description else ""
            out.print(
                f"  {mark} check {safe(check.asset)}:{safe(check.name)} failed"
                f" ({check.severity}){safe(about)}"
            )
    _runs.raise_for(outcome, timeout=limit)
