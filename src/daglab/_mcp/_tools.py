"""What each tool does: thin calls into daglab's library, results as plain JSON-ready dicts.

Every function here takes the :class:`Services` of the server plus the tool's own arguments,
and raises daglab errors; :mod:`daglab._mcp._server` turns those into tool errors. Long
Dagster calls run in a worker thread (the SDK does that for plain functions); ``wait_for_run``
is a coroutine because it reports progress between polls.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import UsageError, ValidationError

if TYPE_CHECKING:
    from daglab._client import DagsterClient, Run
    from daglab._config import LoadedConfig
    from daglab._runs import Target

#: Most items one result carries; the rest are counted in ``truncated``.
DEFAULT_LIMIT = 200
MAX_LIMIT = 2000
ORIGIN = "mcp"


@dataclass
class Services:
    """The server's fixed context: its configuration and allow-list, and one shared client."""

    loaded: LoadedConfig
    allowed: frozenset[str]
    _client: DagsterClient | None = field(default=None, repr=False)

    @property
    def client(self) -> DagsterClient:
        if self._client is None:
            from daglab._client import DagsterClient

            allowed = set(self.allowed)
            if "exportNotebook" in allowed:  # an allowed export may attach its observation
                allowed.add("reportAssetObservation")
            self._client = DagsterClient(
                self.loaded.config.dagster,
                sandbox=True,
                allowed_operations=sorted(allowed),
                launched_by=ORIGIN,
            )
            self._client.history_root = self.loaded.project.root  # the audit trail's project
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _cap(items: Sequence[Any], limit: int) -> tuple[list[Any], int]:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(
            f"limit {limit} is outside 1..{MAX_LIMIT}",
            remediation=f"Ask for at most {MAX_LIMIT} items and narrow with a pattern or filter.",
        )
    return list(items[:limit]), max(0, len(items) - limit)


# -- read-only --------------------------------------------------------------------------------


def discover(
    services: Services,
    kinds: Sequence[str] | None,
    pattern: str | None,
    tags: Mapping[str, str] | None,
    limit: int,
) -> dict[str, Any]:
    from daglab._discover import KINDS, DiscoverFilter, apply

    chosen = tuple(kinds or KINDS)
    unknown = [kind for kind in chosen if kind not in KINDS]
    if unknown:
        raise UsageError(
            f"kind {unknown[0]!r} is not one of {', '.join(KINDS)}",
            remediation=f"Pass kinds from: {', '.join(KINDS)}.",
        )
    selection = DiscoverFilter(kinds=chosen, pattern=pattern, tags=tuple((tags or {}).items()))
    found = apply(services.client.discover(), selection)
    result: dict[str, Any] = {}
    truncated: dict[str, int] = {}
    for kind, items in found.items():
        result[kind], cut = _cap(items, limit)
        if cut:
            truncated[kind] = cut
    result["truncated"] = truncated
    return result


def _target(
    services: Services,
    job: str | None,
    assets: Sequence[str] | None,
    location: str | None,
    repository: str | None,
) -> Target:
    from daglab._runs import resolve_target

    return resolve_target(
        services.client,
        job=job,
        repository=repository,
        location=location,
        asset_selection=",".join(assets) if assets else None,
        asset_pattern=None,
    )


def validate_run_config(
    services: Services,
    job: str | None,
    assets: Sequence[str] | None,
    run_config: Mapping[str, Any] | None,
    location: str | None,
    repository: str | None,
) -> dict[str, Any]:
    target = _target(services, job, assets, location, repository)
    problems = services.client.validate_config(
        target.job, dict(run_config or {}), target.asset_selection or None
    )
    return {
        "target": target.label,
        "valid": not problems,
        "problems": [{"message": p.message, "reason": p.reason} for p in problems],
    }


def default_run_config(
    services: Services, job: str, location: str | None, repository: str | None
) -> dict[str, Any]:
    ref = services.client.resolve_job(job, repository=repository, location=location)
    return {
        "job": ref.name,
        "location": ref.location,
        "yaml": services.client.default_config_yaml(ref),
    }


def _run_dict(client: DagsterClient, run: Run) -> dict[str, Any]:
    data = run.to_dict()
    if run.status == "FAILURE":
        data["failures"] = [failure.__dict__ for failure in client.failures(run.run_id)]
    return data


def get_run(services: Services, run_id: str) -> dict[str, Any]:
    client = services.client
    return _run_dict(client, client.run(_run_id(run_id)))


def list_runs(
    services: Services,
    statuses: Sequence[str] | None,
    tags: Mapping[str, str] | None,
    limit: int,
) -> dict[str, Any]:
    from daglab._client._models import IN_FLIGHT_STATUSES, TERMINAL_STATUSES

    known = (*IN_FLIGHT_STATUSES, *sorted(TERMINAL_STATUSES))
    wanted = [status.upper() for status in statuses or ()]
    unknown = [status for status in wanted if status not in known]
    if unknown:
        raise UsageError(
            f"status {unknown[0]!r} is not one of {', '.join(known)}",
            remediation=f"Pass statuses from: {', '.join(known)}.",
        )
    _cap((), limit)  # the bound check
    runs = services.client.runs(statuses=wanted or None, tags=tags, limit=limit + 1)
    shown, cut = runs[:limit], len(runs) > limit
    return {"runs": [run.to_dict() for run in shown], "more": cut}


async def wait_for_run(
    services: Services,
    run_id: str,
    timeout: float,
    report: Callable[[str, float], Awaitable[None]],
) -> dict[str, Any]:
    """Poll until the run ends or ``timeout`` passes; ``report`` hears each state change."""
    import anyio

    from daglab._client._waiting import POLL_INITIAL, POLL_MAX

    if not 0 < timeout <= 24 * 3600:
        raise UsageError(
            f"timeout {timeout:g} is outside (0, 86400] seconds",
            remediation="Give a timeout in seconds, for example 600.",
        )
    client = services.client
    run_id = _run_id(run_id)
    start = time.monotonic()
    pause, last_status = POLL_INITIAL, None
    while True:
        run = await anyio.to_thread.run_sync(client.run, run_id)
        elapsed = time.monotonic() - start
        if run.status != last_status:
            last_status = run.status
            await report(run.status, elapsed)
        if run.finished:
            return {**_run_dict(client, run), "timed_out": False, "waited": round(elapsed, 3)}
        left = timeout - elapsed
        if left <= 0:
            return {**run.to_dict(), "timed_out": True, "waited": round(elapsed, 3)}
        await anyio.sleep(min(pause, left))
        pause = min(pause * 1.5, POLL_MAX)


def run_logs(
    services: Services,
    run_id: str,
    cursor: str | None,
    limit: int,
    level: str | None,
    steps: Sequence[str] | None,
) -> dict[str, Any]:
    from daglab._runlog import LogFilter, read_page

    where = LogFilter.parse(level, steps or ())
    page = read_page(services.client, _run_id(run_id), cursor=cursor, limit=limit, where=where)
    return page.to_dict()


def asset_partitions(services: Services, asset: str, limit: int) -> dict[str, Any]:
    from daglab._partitions import asset_partitions as find

    found = find(services.client, asset)
    keys, cut = _cap(found.keys, limit)
    return {
        "asset": found.asset,
        "type": found.type,
        "description": found.description,
        "count": len(found.keys),
        "keys": keys,
        "truncated": cut,
        "dimensions": {name: list(values) for name, values in found.dimension_keys.items()},
        "dynamic": dict(found.dynamic),
    }


def config_show(services: Services) -> dict[str, Any]:
    from daglab._config import flatten

    loaded = services.loaded
    return {
        "project_root": str(loaded.project.root),
        "graphql_url": str(loaded.config.dagster.graphql_url),
        "token_variable": loaded.config.dagster.auth.token_env,
        "values": flatten(loaded.config),
        "provenance": loaded.provenance,
        "allowed_operations": sorted(services.allowed),
    }


def stats(services: Services, since: str | None) -> dict[str, Any]:
    from daglab._stats import collect, parse_since

    parsed = parse_since(since) if since else None
    return collect(services.loaded, since=parsed, client=services.client).to_dict()


def doctor(services: Services, timeout: float) -> dict[str, Any]:
    from daglab._doctor import DoctorOptions, run_doctor

    if not 0 < timeout <= 60:
        raise UsageError(
            f"timeout {timeout:g} is outside (0, 60] seconds",
            remediation="Give the webserver checks a few seconds, for example 3.",
        )
    report = run_doctor(DoctorOptions(start=services.loaded.project.root, timeout=timeout))
    return report.to_dict()


# -- changes ----------------------------------------------------------------------------------


def launch_run(
    services: Services,
    job: str | None,
    assets: Sequence[str] | None,
    run_config: Mapping[str, Any] | None,
    partition: str | None,
    tags: Mapping[str, str] | None,
    location: str | None,
    repository: str | None,
    slot_wait: float,
) -> dict[str, Any]:
    """Validate, then launch one run; nothing is launched when validation fails."""
    from daglab import _runs
    from daglab._partitions._backfill import PartitionChoice

    client = services.client
    target = _target(services, job, assets, location, repository)
    choice = PartitionChoice(key=partition) if partition else None
    plan = _runs.plan_partitions(client, target, choice)
    if plan.backfill:
        raise UsageError(
            "launch_run starts one run; a range or all partitions is a backfill",
            remediation="Give one partition key, or run `daglab run --partition-range` yourself.",
        )
    config = dict(run_config or {})
    if plan.config is not None and not config:
        config = plan.config
    _runs.validate(client, target, config)
    all_tags = _runs.partition_tags(plan, dict(tags or {}))
    performance = services.loaded.config.performance
    run = _runs.launch(
        client,
        target,
        config,
        tags=all_tags,
        max_concurrent=performance.max_concurrent_runs,
        deadline=time.monotonic() + slot_wait,
    )
    return {**run.to_dict(), "target": target.label, "partition": plan.key}


def terminate_run(services: Services, run_id: str) -> dict[str, Any]:
    client = services.client
    run_id = _run_id(run_id)
    accepted = client.terminate(run_id)
    run = client.run(run_id)
    return {**run.to_dict(), "terminate_accepted": accepted}


def scaffold_notebook(
    services: Services,
    job: str | None,
    asset: str | None,
    filename: str | None,
    template: str | None,
    location: str | None,
    force: bool,
) -> dict[str, Any]:
    """A notebook paired with a job or asset, written inside the project only."""
    from daglab._notebooks.scaffold import ScaffoldRequest
    from daglab._notebooks.scaffold import scaffold_notebook as scaffold

    root = services.loaded.project.root
    if filename is not None:
        inside(root, services.loaded.notebooks_dir / filename, "filename")
    request = ScaffoldRequest(
        job=job, asset=asset, location=location, filename=filename, template=template, force=force
    )
    done = scaffold(services.loaded, request)
    inside(root, done.path, "the notebook")  # a symlinked notebooks folder leading out
    return done.to_dict()


def export_notebook(
    services: Services,
    notebook: str,
    output: str | None,
    attach: str | None,
    job: str | None,
    force: bool,
) -> dict[str, Any]:
    """Export to HTML inside the project; attach to an asset or a job's assets when asked."""
    from daglab._export import export_notebook as export

    root = services.loaded.project.root
    source = inside(root, root / notebook, "notebook")
    target = inside(root, root / output, "output") if output is not None else None
    attaching = attach is not None or job is not None
    report = export(
        source,
        output=target,
        attach=attach,
        job=job,
        client=services.client if attaching else None,
        force=force,
    )
    return report.to_dict()


# -- helpers ----------------------------------------------------------------------------------


def inside(root: Path, path: Path, what: str) -> Path:
    """``path`` if it stays inside ``root`` once resolved (``..``, absolute paths and symlinks
    leading out are refused with exit 7 before anything is written)."""
    base = root.resolve()
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ValidationError(f"{what} {path}: {exc}") from exc
    if not resolved.is_relative_to(base):
        raise ValidationError(
            f"{what} {str(path)[:200]!r} leads outside the project {base}",
            remediation="Give a path relative to the project that stays inside it.",
        )
    return resolved


def _run_id(value: str) -> str:
    text = value.strip()
    if not text or len(text) > 64 or not all(c.isalnum() or c == "-" for c in text):
        raise ValidationError(
            f"{value[:80]!r} is not a Dagster run id",
            remediation="Pass the run_id a launch or list_runs returned.",
        )
    return text
