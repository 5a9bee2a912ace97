"""The sweep half of ``daglab run --sweep``: validate all, launch each, summarise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from daglab import _runs
from daglab._client import DagsterClient
from daglab._errors import RunFailedError, UsageError, ValidationError
from daglab._sweeps import Sweep, SweepItem, SweepResult, load_sweep, run_sweep

if TYPE_CHECKING:
    from daglab._config_models import PerformanceSettings


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


def validate_sweep(client: DagsterClient, target: _runs.Target, sweep: Sweep) -> None:
    """Every config checked by Dagster before any run starts; all problems reported at once."""
    bad = []
    for item in sweep.items:
        problems = client.validate_config(target.job, item.config, target.asset_selection or None)
        bad += [f"  config #{item.index} ({item.label}): {p.message}" for p in problems]
    if bad:
        raise ValidationError(
            f"{sweep.path}: invalid run config for {target.label}:\n" + "\n".join(bad),
            remediation="Fix the configs; no run was launched.",
        )


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
) -> None:
    import time

    from daglab._cli._output import console, print_json, safe

    out = console(stderr=True)
    validate_sweep(client, target, sweep)
    if validate_only:
        if json_output:
            print_json({"valid": True, "configs": len(sweep.items), "target": target.label})
        else:
            out.print(f"[green]✓[/] {len(sweep.items)} run config(s) valid for {target.label}")
        return

    def launch_one(item: SweepItem, sweep_tags: dict[str, str]) -> tuple[str, str | None]:
        run = _runs.launch(
            client,
            target,
            item.config,
            tags={**tags, **sweep_tags},
            max_concurrent=max_concurrent,
            deadline=time.monotonic() + timeout,  # a slot, like the run, within --timeout
        )
        if not json_output:
            out.print(f"launched #{item.index} {safe(item.label)}: {run.url}", soft_wrap=True)
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
        sweep, launch_one, wait_one, parallel=parallel, fail_fast=fail_fast, target=target.label
    )
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
            remediation="See the failed runs' URLs above.",
            sweep_id=sweep.sweep_id,
            results=[r.to_dict() for r in results],
        )


def _summary(results: list[SweepResult], sweep: Sweep) -> None:
    from rich.table import Table

    from daglab._cli._output import console, safe

    table = Table(title=f"sweep {sweep.sweep_id} ({sweep.path.name})", title_justify="left")
    for column in ("#", "label", "run id", "status", "duration", "error"):
        table.add_column(column, overflow="fold")
    for r in results:
        style = "green" if r.status == "SUCCESS" else "red"
        table.add_row(
            str(r.item.index),
            safe(r.item.label),
            r.run_id or "-",
            f"[{style}]{r.status}[/]",
            f"{r.duration:.1f} s" if r.duration is not None else "-",
            safe(r.error or ""),
        )
    console().print(table)
