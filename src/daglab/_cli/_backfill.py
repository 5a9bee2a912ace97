"""``daglab run --partition-range/--all-partitions`` where the range cannot be one run: launch
one backfill, follow it with a progress bar over its partitions, and exit 4 naming the
partitions that failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._runs import PartitionPlan, Target


def backfill_command(
    client: DagsterClient,
    target: Target,
    plan: PartitionPlan,
    *,
    tags: Mapping[str, str],
    wait: bool,
    timeout: float,
    json_output: bool,
    quiet: bool = False,
) -> None:
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import RunFailedError
    from daglab._partitions._backfill import launch_backfill, wait_backfill

    backfill_id = launch_backfill(
        client,
        keys=plan.keys,
        all_partitions=plan.all,
        assets=target.asset_selection or None,
        job=None if target.asset_selection else target.job,
        tags=dict(tags),
        title=f"daglab: {target.label}",
    )
    url = str(client.base_url.join(f"runs/b/{backfill_id}"))
    out = console(stderr=True)
    count = "every partition" if plan.all else f"{len(plan.keys):,} partitions"
    if not (json_output or quiet):
        why = f" ({safe(plan.why_backfill)})" if plan.why_backfill else ""
        out.print(
            f"Launched a backfill of {count} of {safe(target.label)}{why}: {url}", soft_wrap=True
        )
    if not wait:
        if json_output:
            print_json(
                {
                    "launch": "backfill",
                    "why_backfill": plan.why_backfill,
                    "backfill_id": backfill_id,
                    "url": url,
                    "partitions": list(plan.keys),
                }
            )
        return
    if json_output or quiet:
        state = wait_backfill(client, backfill_id, timeout=timeout)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
        ) as progress:
            task = progress.add_task("backfill", total=len(plan.keys) or None)

            def show(current: object) -> None:
                from daglab._partitions._backfill import Backfill

                assert isinstance(current, Backfill)  # noqa: S101  type narrowing, an invariant
                total = len(current.partitions) or None
                progress.update(
                    task,
                    total=total,
                    completed=current.succeeded + len(current.failed),
                    description=f"{current.status.lower()} · {len(current.failed)} failed",
                )

            state = wait_backfill(client, backfill_id, timeout=timeout, on_progress=show)
    result = {
        "launch": "backfill",
        "why_backfill": plan.why_backfill,
        **state.to_dict(),
        "url": url,
    }
    if not state.finished:
        raise RunFailedError(
            f"backfill {backfill_id} did not finish within {timeout:g} s"
            f" ({state.succeeded} of {len(state.partitions)} partitions done); it keeps running",
            remediation=f"Follow it at {url}; raise --timeout to wait longer.",
            backfill=result,
        )
    if not state.ok:
        failed = ", ".join(state.failed[:20]) + (" …" if len(state.failed) > 20 else "")
        raise RunFailedError(
            f"backfill {backfill_id} ended {state.status}: {len(state.failed)} of"
            f" {len(state.partitions)} partitions failed"
            + (f" ({failed})" if failed else "")
            + (f": {state.error}" if state.error else ""),
            remediation=f"See the failed runs at {url}; relaunch them with --partition KEY.",
            backfill=result,
        )
    if json_output:
        print_json(result)
    elif not quiet:
        out.print(
            f"[green]{state.status}[/]: {state.succeeded} of {len(state.partitions)} partitions"
            f"  {url}",
            soft_wrap=True,
        )
