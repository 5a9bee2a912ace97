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
    from daglab._client import DagsterClient, Run
    from daglab._runs import Outcome

EXAMPLES = """[bold]Examples[/]

  daglab run --job configurable_job --config-yaml '{ops: {multiply: {config: {multiplier: 2}}}}'

  daglab run --asset-selection orders/raw_orders,orders/cleaned_orders

  daglab run --asset-pattern 'orders/*' --no-wait --json

  daglab run --job my_job --run-config run.yaml --validate-only

  daglab run --job slow_job --timeout 60 --cancel-on-timeout

  daglab run --job train --sweep configs.py --parallel 2 --fail-fast

  daglab run --asset-selection shop/daily_sales --sweep days.py --in-process --parallel 2

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
            help="Partition key to run; multi-dimensional as dim=key,dim=key. With --sweep:"
            " the partition of each config that names none.",
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
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="Run each sweep config in-process, in a subprocess of its own; no webserver"
            " (--parallel default: performance.sweep_parallel, at most the CPU count). A config"
            " is stopped after --timeout only when that is given.",
        ),
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
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print no progress; only errors (and --json)."),
    ] = False,
) -> None:
    """Launch a job or an asset selection in Dagster, and wait for it.

    The run config is validated by Dagster first: invalid config exits 7 and creates no run.
    A failed or canceled run exits 4, with the failing step and its error; so does a run whose
    asset checks failed with ERROR severity (WARN failures are printed, exit 0). A partition
    that does not exist is exit 7 before anything is launched. --partition-range and
    --all-partitions launch one run over the range when every asset has a single-run backfill
    policy (as `dagster asset materialize --partition-range` does), else one Dagster backfill;
    --wait follows either to its end, and the output (and "launch" in --json) says which.

    While waiting, each step's start and end is shown (a live line at a terminal, one line per
    change in a log); --quiet shows none. With --json, a waited run prints one report with the
    same keys whether it succeeded or not: run_id, status, url, duration, steps, failures,
    checks, launch, partitions, exit_code and error (null on success).
    """
    import time

    from daglab import _runs
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import UsageError
    from daglab._partitions._backfill import PartitionChoice

    started = time.monotonic()
    state: CliState = ctx.ensure_object(CliState)
    if sweep is not None:
        from daglab._cli._sweep import SweepOptions, sweep_command

        options = SweepOptions(
            path=sweep,
            job=job,
            repo=repo,
            location=location,
            asset_selection=asset_selection,
            asset_pattern=asset_pattern,
            partition=partition,
            partition_range=partition_range,
            all_partitions=all_partitions,
            run_config=run_config,
            config_yaml=config_yaml,
            tags=tag or [],
            validate_only=validate_only,
            wait=wait,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            parallel=parallel,
            sequential=sequential,
            fail_fast=fail_fast,
            max_configs=max_configs,
            yes=yes,
            in_process=in_process,
            sandbox=sandbox,
            dagster_port=dagster_port,
            url=url,
            auth_token=auth_token,
            json_output=json_output,
        )
        sweep_command(state, options)
        return
    unused = [
        flag
        for flag, given in (
            ("--parallel", parallel is not None),
            ("--sequential", sequential),
            ("--fail-fast", fail_fast),
            ("--max-configs", max_configs is not None),
            ("--in-process", in_process),
        )
        if given
    ]
    if unused:
        raise UsageError(
            f"{', '.join(unused)}: these apply only to --sweep",
            remediation="Add --sweep FILE, or drop them.",
        )
    choice = PartitionChoice.from_flags(partition, partition_range, all_partitions)
    config = _runs.parse_run_config(run_config, config_yaml)
    tags = _runs.parse_tags(tag or [])
    client = make_client(
        state,
        port=dagster_port,
        url=url,
        token=auth_token,
        sandbox=sandbox or None,
        launched_by="cli",
    )
    assert state.loaded is not None  # noqa: S101  type narrowing, an invariant
    performance = state.loaded.config.performance
    out = console(stderr=True)
    with client:
        target = _runs.resolve_target(
            client,
            job=job,
            repository=repo,
            location=location,
            asset_selection=asset_selection,
            asset_pattern=asset_pattern,
        )
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
            if not (json_output or quiet):
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
                quiet=quiet,
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
        if not (json_output or quiet):
            what = safe(target.label)
            if plan.single_run:
                what += (
                    f" as one run over {len(plan.single_run):,} partitions"
                    f" ({plan.single_run[0]} .. {plan.single_run[-1]})"
                )
            out.print(f"Launched {what}: {launched.url}", soft_wrap=True)
        if not wait:
            if json_output:
                print_json(
                    {
                        **launched.to_dict(),
                        "launch": plan.launch,
                        "partitions": list(plan.single_run),
                    }
                )
            return
        left = max(0.1, limit - (time.monotonic() - started))
        outcome, shown = wait_for(
            client, launched, left, cancel_on_timeout, json_output, stated=limit, quiet=quiet
        )
        outcome.launch = plan.launch
        outcome.partitions = plan.single_run
    report_outcome(outcome, limit, json_output, quiet=quiet, shown=shown)


def wait_for(
    client: DagsterClient,
    run: Run,
    limit: float,
    cancel_on_timeout: bool,
    json_output: bool,
    *,
    stated: float | None = None,
    quiet: bool = False,
) -> tuple[Outcome, set[str]]:
    """Wait for ``run``, showing its steps (unless ``json_output`` or ``quiet``); shared by
    ``run`` and ``wait``. Also returns the steps whose errors were shown already.

    ``limit`` is the time left to wait; ``stated`` the --timeout it is left of.
    """
    from daglab import _runs
    from daglab._cli._follow import RunProgress
    from daglab._cli._output import console

    if json_output or quiet:
        outcome = _runs.finish(
            client, run, timeout=limit, cancel_on_timeout=cancel_on_timeout, stated_timeout=stated
        )
        return outcome, set()
    with RunProgress(console(stderr=True)) as progress:
        outcome = _runs.finish(
            client,
            run,
            timeout=limit,
            cancel_on_timeout=cancel_on_timeout,
            on_update=progress.update,
            stated_timeout=stated,
            on_steps=progress.on_steps,
        )
    return outcome, progress.reported


def report_outcome(
    outcome: Outcome,
    limit: float,
    json_output: bool,
    *,
    quiet: bool = False,
    shown: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Print how the run ended, then exit 4 unless it succeeded.

    With ``--json`` the one report (:meth:`daglab._runs.Outcome.report`) is printed whether the
    run succeeded or not; errors of steps in ``shown`` were printed while waiting already.
    """
    from daglab import _runs
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import RunFailedError

    if not (json_output or quiet):  # --quiet: the error alone says what went wrong
        out = console(stderr=True)
        run_ = outcome.run
        style = "green" if outcome.succeeded else "red"
        duration = f" in {run_.duration:.1f} s" if run_.duration is not None else ""
        out.print(f"[{style}]{run_.status}[/]{duration}  {run_.url}", soft_wrap=True)
        for failure in outcome.failures:
            if failure.step is None or failure.step not in shown:
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
    try:
        _runs.raise_for(outcome, timeout=limit, shown=shown)
    except RunFailedError as exc:
        if not json_output:
            raise
        print_json(outcome.report(exc))  # the same keys as a success, with "error" set
        raise SystemExit(int(exc.exit_code)) from None
    if json_output:
        print_json(outcome.report())
