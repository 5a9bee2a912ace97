"""The sweep half of ``daglab run --sweep``: validate all, launch each, summarise.

A sweep runs through Dagster (one run per config, launched over GraphQL) or, with
``--in-process``, each config in a subprocess of its own without any webserver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab import _runs
from daglab._client import DagsterClient
from daglab._errors import RunFailedError, UsageError
from daglab._sweeps import Sweep, SweepItem, SweepResult, load_sweep, plan_sweep, run_sweep
from daglab._url import SafeUrl

if TYPE_CHECKING:
    from daglab._cli._context import CliState
    from daglab._config_models import PerformanceSettings


@dataclass(frozen=True)
class SweepOptions:
    """``daglab run``'s flags, as a sweep reads them."""

    path: Path
    job: str | None
    repo: str | None
    location: str | None
    asset_selection: str | None
    asset_pattern: str | None
    partition: str | None
    partition_range: str | None
    all_partitions: bool
    run_config: Path | None
    config_yaml: str | None
    tags: list[str]
    validate_only: bool
    wait: bool
    timeout: float | None
    cancel_on_timeout: bool
    parallel: int | None
    sequential: bool
    fail_fast: bool
    max_configs: int | None
    yes: bool
    in_process: bool
    sandbox: bool
    dagster_port: int | None
    url: SafeUrl | None
    auth_token: str | None
    json_output: bool


def sweep_command(state: CliState, options: SweepOptions) -> None:
    """``daglab run --sweep FILE``: check the flags, load the file, then run it one way or the
    other. A bad file or bad flags fail before anything is contacted."""
    _check_flags(options)
    tags = _runs.parse_tags(options.tags)
    if options.in_process:
        from daglab._cli._endpoint import endpoint_overrides

        # No client is made: an in-process sweep contacts no webserver.
        loaded = state.load(overrides=endpoint_overrides(options.dagster_port, options.url))
        performance = loaded.config.performance
        sweep = _load(options, performance)
        _inprocess_command(options, sweep, performance, tags)
        return
    from daglab._cli._endpoint import make_client

    client = make_client(
        state,
        port=options.dagster_port,
        url=options.url,
        token=options.auth_token,
        sandbox=options.sandbox or None,
        launched_by="sweep",
    )
    assert state.loaded is not None  # noqa: S101  type narrowing, an invariant
    performance = state.loaded.config.performance
    sweep = _load(options, performance)
    with client:
        target = _runs.resolve_target(
            client,
            job=options.job,
            repository=options.repo,
            location=options.location,
            asset_selection=options.asset_selection,
            asset_pattern=options.asset_pattern,
        )
        run_sweep_command(
            client,
            target,
            sweep,
            tags=tags,
            parallel=1
            if options.sequential
            else (options.parallel or performance.max_concurrent_runs),
            max_concurrent=performance.max_concurrent_runs,
            fail_fast=options.fail_fast,
            timeout=options.timeout if options.timeout is not None else performance.max_wait_time,
            cancel_on_timeout=options.cancel_on_timeout,
            validate_only=options.validate_only,
            json_output=options.json_output,
            default_partition=options.partition,
        )


def _check_flags(options: SweepOptions) -> None:
    if options.partition_range is not None or options.all_partitions:
        raise UsageError(
            "--sweep runs one partition per config; --partition-range and --all-partitions"
            " do not apply",
            remediation="Give each config its partition in the sweep file"
            " ({'partition': KEY, 'config': {...}}), or --partition KEY as the default.",
        )
    if options.run_config is not None or options.config_yaml is not None:
        raise UsageError("--sweep supplies the run configs; drop --run-config/--config-yaml")
    if not options.wait:
        raise UsageError(
            "--sweep waits for its runs (each launch may wait for a free slot); drop --no-wait",
            remediation="Launch single runs with --no-wait and follow them with `daglab wait`.",
        )
    if options.sequential and options.parallel is not None:
        raise UsageError("give --sequential or --parallel, not both")
    if options.in_process:
        if options.asset_pattern is not None or options.repo is not None:
            raise UsageError(
                "--in-process runs one job or asset of the project's Definitions;"
                " --asset-pattern and --repo do not apply",
                remediation="Name it with --job NAME or --asset-selection KEY.",
            )
        selected = [k for k in (options.asset_selection or "").split(",") if k.strip()]
        if (options.job is None) == (not selected) or len(selected) > 1:
            raise UsageError(
                "--in-process needs one target: --job NAME or --asset-selection with one key",
                remediation="e.g. daglab run --asset-selection shop/daily_sales --sweep days.py"
                " --in-process",
            )
        if options.sandbox or options.cancel_on_timeout:
            raise UsageError(
                "--sandbox and --cancel-on-timeout concern runs in Dagster; an in-process"
                " sweep contacts no webserver",
                remediation="Drop them (a config past --timeout is stopped anyway).",
            )


def _load(options: SweepOptions, performance: PerformanceSettings) -> Sweep:
    return load_and_confirm(
        options.path,
        performance,
        max_configs=options.max_configs,
        ask=not (options.yes or options.json_output or options.validate_only),
    )


def load_and_confirm(
    path: Path, performance: PerformanceSettings, *, max_configs: int | None, ask: bool
) -> Sweep:
    """Load the sweep under its limits; at a terminal, ask before launching a large one."""
    import sys

    sweep = load_sweep(
        path,
        max_configs=max_configs or performance.sweep_max_configs,
        time_limit=performance.sweep_time_limit,
    )
    count = len(sweep.items)
    if ask and count > performance.sweep_confirm_above and sys.stdin.isatty():
        import typer

        if not typer.confirm(f"{path} gives {count} configs: launch {count} runs?", err=True):
            raise UsageError(
                f"declined: none of the {count} runs of {path} was launched",
                remediation="Pass --yes to launch without asking.",
            )
    return sweep


def validate_sweep(
    client: DagsterClient,
    target: _runs.Target,
    sweep: Sweep,
    plans: Mapping[int, _runs.PartitionPlan] | None = None,
) -> None:
    """Every config checked by Dagster before any run starts; all problems reported at once.
    ``plans`` (from :func:`~daglab._sweeps.plan_sweep`) adds a partitioned job's config."""
    from daglab._errors import ValidationError

    bad = []
    for item in sweep.items:
        config = _config_for(item, plans[item.index]) if plans is not None else item.config
        problems = client.validate_config(target.job, config, target.asset_selection or None)
        bad += [f"  config #{item.index} ({item.label}): {p.message}" for p in problems]
    if bad:
        raise ValidationError(
            f"{sweep.path}: invalid run config for {target.label}:\n" + "\n".join(bad),
            remediation="Fix the configs; no run was launched.",
        )


def _config_for(item: SweepItem, plan: _runs.PartitionPlan) -> dict[str, Any]:
    """The config's own run config over the one Dagster derives for its partition (a
    partitioned job's), merged key by key."""
    from daglab._sweeps import merge_config

    return merge_config(plan.config or {}, item.config)


def run_sweep_command(
    client: DagsterClient,
    target: _runs.Target,
    sweep: Sweep,
    *,
    tags: Mapping[str, str],
    parallel: int,
    max_concurrent: int,
    fail_fast: bool,
    timeout: float,
    cancel_on_timeout: bool,
    validate_only: bool,
    json_output: bool,
    default_partition: str | None = None,
) -> None:
    import time

    from daglab._cli._output import console, safe

    out = console(stderr=True)
    plans = plan_sweep(client, target, sweep, default_partition)
    validate_sweep(client, target, sweep, plans)
    partitions = {i: plan.key for i, plan in plans.items()}
    if validate_only:
        _print_valid(sweep, target.label, partitions, json_output)
        return

    def launch_one(item: SweepItem, sweep_tags: dict[str, str]) -> tuple[str, str | None]:
        plan = plans[item.index]
        run = _runs.launch(
            client,
            target,
            _config_for(item, plan),
            tags=_runs.partition_tags(plan, {**tags, **sweep_tags}),
            max_concurrent=max_concurrent,
            deadline=time.monotonic() + timeout,  # a slot, like the run, within --timeout
        )
        if not json_output:
            where = f" [{safe(plan.key)}]" if plan.key else ""
            out.print(
                f"launched #{item.index} {safe(item.label)}{where}: {run.url}", soft_wrap=True
            )
        return run.run_id, run.url

    def wait_one(run_id: str) -> tuple[str, float | None, str | None]:
        outcome = _runs.finish(
            client, client.run(run_id), timeout=timeout, cancel_on_timeout=cancel_on_timeout
        )
        error = "; ".join(f.describe() for f in outcome.failures) or None
        if outcome.timed_out:
            error = f"timed out after {timeout:g} s" + (" and canceled" if outcome.canceled else "")
        return outcome.run.status, outcome.run.duration, error

    results = run_sweep(
        sweep,
        launch_one,
        wait_one,
        parallel=parallel,
        fail_fast=fail_fast,
        target=target.label,
        partitions=partitions,
    )
    _report(results, sweep, json_output, remedy="See the failed runs' URLs above.")


def _inprocess_command(
    options: SweepOptions,
    sweep: Sweep,
    performance: PerformanceSettings,
    tags: Mapping[str, str],
) -> None:
    """``--in-process``: check every config's partition, then run each in its own subprocess."""
    from daglab._cli._output import console, safe
    from daglab._inprocess._sweep import (
        InProcessTarget,
        check_sweep,
        effective_parallel,
        run_sweep_inprocess,
    )

    out = console(stderr=True)
    kind = "job" if options.job is not None else "asset"
    name = options.job or (options.asset_selection or "").strip(" ,")
    where = InProcessTarget(name, kind, options.location)
    label, partitions = check_sweep(where, sweep, options.partition)
    if options.validate_only:
        _print_valid(sweep, label, partitions, options.json_output)
        return
    requested = 1 if options.sequential else (options.parallel or performance.sweep_parallel)
    parallel = effective_parallel(requested)
    if not options.json_output:
        bounded = f" (bounded by {parallel} CPUs)" if parallel < requested else ""
        out.print(
            f"sweep {sweep.sweep_id}: {len(sweep.items)} config(s) of {safe(label)} in process,"
            f" {parallel} at a time{bounded}"
        )

    def started(item: SweepItem) -> None:
        if not options.json_output:
            key = partitions.get(item.index)
            where_ = f" [{safe(key)}]" if key else ""
            out.print(f"started #{item.index} {safe(item.label)}{where_}")

    try:
        results = run_sweep_inprocess(
            where,
            sweep,
            partitions=partitions,
            parallel=parallel,
            fail_fast=options.fail_fast,
            timeout=options.timeout,  # stopping a config's work only when asked to
            tags=tags,
            target_label=label,
            on_start=started,
        )
    except KeyboardInterrupt:
        out.print(f"Interrupted: sweep {sweep.sweep_id} stopped its configs in flight")
        raise
    _report(results, sweep, options.json_output, remedy="See each config's error above.")


def _print_valid(
    sweep: Sweep, label: str, partitions: Mapping[int, str | None], json_output: bool
) -> None:
    from daglab._cli._output import console, print_json, safe

    if json_output:
        print_json(
            {
                "valid": True,
                "configs": len(sweep.items),
                "target": label,
                "partitions": [partitions.get(item.index) for item in sweep.items],
            }
        )
    else:
        console(stderr=True).print(
            f"[green]✓[/] {len(sweep.items)} run config(s) valid for {safe(label)}"
        )


def _report(results: list[SweepResult], sweep: Sweep, json_output: bool, *, remedy: str) -> None:
    """The summary (a table, or one JSON object), then exit 4 if any config did not succeed."""
    from daglab._cli._output import print_json

    failed = [r for r in results if r.status != "SUCCESS"]
    if json_output:
        payload = {"sweep_id": sweep.sweep_id, "results": [r.to_dict() for r in results]}
        if not failed:
            print_json(payload)
    else:
        _summary(results, sweep)
    if failed:
        raise RunFailedError(
            f"{len(failed)} of {len(results)} sweep run(s) did not succeed"
            f" (sweep {sweep.sweep_id})",
            remediation=remedy,
            sweep_id=sweep.sweep_id,
            results=[r.to_dict() for r in results],
        )


def _summary(results: list[SweepResult], sweep: Sweep) -> None:
    from rich.table import Table

    from daglab._cli._output import console, safe

    partitioned = any(r.partition for r in results)
    table = Table(title=f"sweep {sweep.sweep_id} ({sweep.path.name})", title_justify="left")
    columns = ["#", "label", *(["partition"] if partitioned else []), "run id", "status"]
    for column in (*columns, "duration", "error"):
        table.add_column(column, overflow="fold")
    for r in results:
        style = "green" if r.status == "SUCCESS" else "red"
        table.add_row(
            str(r.item.index),
            safe(r.item.label),
            *([safe(r.partition or "-")] if partitioned else []),
            r.run_id or "-",
            f"[{style}]{r.status}[/]",
            f"{r.duration:.1f} s" if r.duration is not None else "-",
            safe(r.error or ""),
        )
    console().print(table)
