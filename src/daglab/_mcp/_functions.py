"""The tools' signatures as the agent sees them: each argument typed and described.

The SDK builds each tool's input schema from these signatures, so they are real functions with
annotations resolvable at run time. They only adapt arguments and call :mod:`._tools`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field  # noqa: TID253 - loaded only by `daglab mcp`

from daglab._mcp import _tools
from daglab._mcp._tools import DEFAULT_LIMIT, Services

Job = Annotated[str | None, Field(description="A job's name (give a job or assets).")]
Assets = Annotated[
    list[str] | None, Field(description="Asset keys as a/b paths (give a job or assets).")
]
RunConfig = Annotated[dict[str, Any] | None, Field(description="The run config, as a mapping.")]
Location = Annotated[str | None, Field(description="Code location, when a name is ambiguous.")]
Repository = Annotated[str | None, Field(description="Repository, when a name is ambiguous.")]
Limit = Annotated[
    int, Field(description="Most items to return; the rest are counted.", ge=1, le=2000)
]
RunId = Annotated[str, Field(description="The run's id.")]
Tags = Annotated[dict[str, str] | None, Field(description="Tags that must all match.")]


def functions(services: Services) -> dict[str, Callable[..., Any]]:
    """One callable per tool of the registry, bound to the server's services."""

    def discover(
        kinds: Annotated[
            list[str] | None,
            Field(
                description="What to list: locations, repos, jobs, assets, checks, schedules,"
                " sensors (default all)."
            ),
        ] = None,
        pattern: Annotated[
            str | None, Field(description="Glob on names and asset key paths, e.g. 'orders/*'.")
        ] = None,
        tags: Tags = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """List what the Dagster webserver serves."""
        return _tools.discover(services, kinds, pattern, tags, limit)

    def validate_run_config(
        job: Job = None,
        assets: Assets = None,
        run_config: RunConfig = None,
        location: Location = None,
        repository: Repository = None,
    ) -> dict[str, Any]:
        """Check a run config with Dagster's own validation; launches nothing."""
        return _tools.validate_run_config(services, job, assets, run_config, location, repository)

    def default_run_config(
        job: Annotated[str, Field(description="The job's name.")],
        location: Location = None,
        repository: Repository = None,
    ) -> dict[str, Any]:
        """The job's run config with every default filled in."""
        return _tools.default_run_config(services, job, location, repository)

    def get_run(run_id: RunId) -> dict[str, Any]:
        """One run; a failed run comes with its failing step and cause."""
        return _tools.get_run(services, run_id)

    def list_runs(
        statuses: Annotated[
            list[str] | None, Field(description="Statuses, e.g. STARTED, FAILURE, SUCCESS.")
        ] = None,
        tags: Tags = None,
        limit: Annotated[int, Field(description="Most runs to return.", ge=1, le=2000)] = 20,
    ) -> dict[str, Any]:
        """Recent runs, newest first."""
        return _tools.list_runs(services, statuses, tags, limit)

    async def wait_for_run(
        run_id: RunId,
        ctx: Context,
        timeout: Annotated[
            float, Field(description="Seconds to wait; the run keeps going after.", gt=0)
        ] = 600.0,
    ) -> dict[str, Any]:
        """Wait for a run to end; never cancels it."""

        async def report(status: str, elapsed: float) -> None:
            await ctx.report_progress(elapsed, timeout, f"{status} after {elapsed:.1f} s")

        return await _tools.wait_for_run(services, run_id, timeout, report)

    def run_logs(
        run_id: RunId,
        cursor: Annotated[
            str | None, Field(description="The cursor a previous page returned (None: start).")
        ] = None,
        limit: Annotated[int, Field(description="Events to read.", ge=1, le=10_000)] = 200,
        level: Annotated[
            str | None, Field(description="Only this level or above: DEBUG … CRITICAL.")
        ] = None,
        steps: Annotated[list[str] | None, Field(description="Only these steps.")] = None,
    ) -> dict[str, Any]:
        """One page of a run's event log and the cursor of the next."""
        return _tools.run_logs(services, run_id, cursor, limit, level, steps)

    def asset_partitions(
        asset: Annotated[str, Field(description="The asset key as an a/b path.")],
        limit: Limit = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """An asset's partitions definition and keys."""
        return _tools.asset_partitions(services, asset, limit)

    def config_show() -> dict[str, Any]:
        """daglab's effective configuration; never a credential."""
        return _tools.config_show(services)

    def stats(
        since: Annotated[
            str | None, Field(description="How far back: 7d, 24h, 2026-11-01 (default all).")
        ] = None,
    ) -> dict[str, Any]:
        """Runs daglab launched (by origin: cli, notebook, mcp) and the local history."""
        return _tools.stats(services, since)

    def doctor(
        timeout: Annotated[
            float, Field(description="Seconds for each webserver check.", gt=0, le=60)
        ] = 3.0,
    ) -> dict[str, Any]:
        """Diagnose the environment: each check with its status and remedy."""
        return _tools.doctor(services, timeout)

    async def launch_run(
        ctx: Context,
        job: Job = None,
        assets: Assets = None,
        run_config: RunConfig = None,
        partition: Annotated[
            str | None, Field(description="One partition key (dim=key,dim=key for multi).")
        ] = None,
        tags: Annotated[dict[str, str] | None, Field(description="Extra run tags.")] = None,
        location: Location = None,
        repository: Repository = None,
        wait: Annotated[
            bool, Field(description="Wait for the run to end (progress is notified).")
        ] = False,
        timeout: Annotated[
            float, Field(description="With wait: seconds to wait; the run goes on after.", gt=0)
        ] = 600.0,
    ) -> dict[str, Any]:
        """Validate, then launch one run; nothing is launched when validation fails."""
        import anyio

        launched = await anyio.to_thread.run_sync(
            lambda: _tools.launch_run(
                services,
                job,
                assets,
                run_config,
                partition,
                tags,
                location,
                repository,
                slot_wait=services.loaded.config.dagster.graphql.retry_budget_seconds,
            )
        )
        if not wait:
            return launched

        async def report(status: str, elapsed: float) -> None:
            await ctx.report_progress(elapsed, timeout, f"{status} after {elapsed:.1f} s")

        outcome = await _tools.wait_for_run(services, launched["run_id"], timeout, report)
        return {**outcome, "target": launched["target"], "partition": launched["partition"]}

    def terminate_run(run_id: RunId) -> dict[str, Any]:
        """Ask Dagster to terminate a run."""
        return _tools.terminate_run(services, run_id)

    def scaffold_notebook(
        job: Annotated[str | None, Field(description="Pair with this job.")] = None,
        asset: Annotated[str | None, Field(description="Pair with this asset (a/b).")] = None,
        filename: Annotated[
            str | None, Field(description="File name inside the notebooks folder.")
        ] = None,
        template: Annotated[
            str | None, Field(description="default, minimal or ml (default: daglab.yaml).")
        ] = None,
        location: Location = None,
        force: Annotated[bool, Field(description="Replace a notebook daglab made before.")] = False,
    ) -> dict[str, Any]:
        """Write a marimo notebook paired with a job or an asset, inside the project."""
        return _tools.scaffold_notebook(services, job, asset, filename, template, location, force)

    def export_notebook(
        notebook: Annotated[str, Field(description="The notebook, relative to the project.")],
        output: Annotated[
            str | None, Field(description="HTML path relative to the project (default beside).")
        ] = None,
        attach: Annotated[
            str | None, Field(description="asset://KEY[:PARTITION] to attach the export to.")
        ] = None,
        job: Annotated[
            str | None, Field(description="Attach to every asset this job materializes.")
        ] = None,
        force: Annotated[
            bool, Field(description="Replace an HTML file daglab did not make.")
        ] = False,
    ) -> dict[str, Any]:
        """Export a notebook to HTML inside the project; optionally attach it in Dagster."""
        return _tools.export_notebook(services, notebook, output, attach, job, force)

    return {
        fn.__name__: fn
        for fn in (
            discover,
            validate_run_config,
            default_run_config,
            get_run,
            list_runs,
            wait_for_run,
            run_logs,
            asset_partitions,
            config_show,
            stats,
            doctor,
            launch_run,
            terminate_run,
            scaffold_notebook,
            export_notebook,
        )
    }
