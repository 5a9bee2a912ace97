"""What a notebook does with Dagster: connect, discover, validate config, launch and watch runs.

These functions take and return plain objects so that notebook cells stay thin. Operations
that a cell shows as an indicator (connecting, validating) report problems in their result
instead of raising, so a cell never fails because the webserver is down; operations a person
asks for explicitly (launching) raise a :class:`~daglab.DaglabError` with a remediation line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import DaglabError, ValidationError

if TYPE_CHECKING:
    from daglab._client import DagsterClient, Discovery, JobRef, Run
    from daglab._config import LoadedConfig
    from daglab._performance import PerformanceTracker
    from daglab._runs import Outcome
    from daglab._state import NotebookState


@dataclass
class Connection:
    """A webserver endpoint and whether it answered; ``client`` is shared per endpoint."""

    url: str
    client: DagsterClient | None
    loaded: LoadedConfig | None
    version: str | None = None
    problem: str | None = None
    remedy: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.client is not None

    def require(self) -> DagsterClient:
        """The client, or the connection problem raised as a daglab error."""
        if self.client is None or self.problem is not None:
            from daglab._errors import ConnectivityError

            raise ConnectivityError(
                self.problem or f"not connected to {self.url}", remediation=self.remedy
            )
        return self.client

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "ok": self.ok,
            "version": self.version,
            "problem": self.problem,
            "remedy": self.remedy,
        }


def connect(
    url: str | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    token: str | None = None,
    project: Path | str | None = None,
    sandbox: bool | None = None,
    check: bool = True,
) -> Connection:
    """Connect with daglab's configuration (``daglab.yaml``, ``DAGLAB_*``), then check health.

    ``url``/``host``/``port`` override the configuration; the token comes from ``token`` or the
    variable named by ``dagster.auth.token_env`` and is never stored in the notebook. The health
    check asks the server's version, with the configured retries and backoff.
    """
    from daglab._client import DagsterClient
    from daglab._config import load_config

    overrides = {"dagster.url": url, "dagster.host": host, "dagster.port": port}
    start = Path(project) if project is not None else None
    try:
        loaded = load_config(start=start, overrides=overrides)
    except DaglabError as exc:
        from daglab._url import SafeUrl

        shown = str(SafeUrl(url)) if url else ""  # never the password given in ``url``
        return Connection(shown, None, None, problem=str(exc), remedy=exc.remediation)
    settings = loaded.config.dagster
    security = loaded.config.security
    try:
        client = DagsterClient.shared(
            settings,
            token=token,
            sandbox=security.sandbox_mode if sandbox is None else sandbox,
            allowed_operations=security.allowed_operations,
            launched_by="notebook",
        )
    except DaglabError as exc:
        return Connection(
            str(settings.base_url), None, loaded, problem=str(exc), remedy=exc.remediation
        )
    client.history_root = loaded.project.root  # the audit trail goes to this notebook's project
    connection = Connection(str(client.base_url), client, loaded)
    if check:
        try:
            connection.version = client.version()
        except DaglabError as exc:
            connection.problem = str(exc)
            connection.remedy = exc.remediation
    return connection


def _connection(conn: Connection | None) -> Connection:
    return conn if conn is not None else connect()


def discover(conn: Connection | None = None) -> Discovery:
    """Code locations, repositories, jobs and assets of the webserver, in one request."""
    return _connection(conn).require().discover()


def parse_config(config: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Run config from YAML text or a mapping (``None`` or blank text is ``{}``)."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    from daglab._runs import parse_run_config

    return parse_run_config(None, config)


@dataclass(frozen=True)
class ConfigCheck:
    """The outcome of validating a run config: ``ok`` is None when it could not be checked."""

    ok: bool | None
    problems: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.ok:
            return "valid"
        if self.ok is None:
            return "not checked: " + "; ".join(self.problems)
        return "invalid: " + "; ".join(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems), "config": self.config}


def _target(
    client: DagsterClient,
    job: str | JobRef | None,
    assets: str | Sequence[str] | None,
    *,
    repository: str | None = None,
    location: str | None = None,
) -> Any:
    from daglab._runs import Target, match_assets

    discovery = client.discover()
    keys: list[tuple[str, ...]] = match_assets(discovery, assets) if assets else []
    if assets and not keys:
        raise ValidationError(
            f"the asset selection {assets!r} matches no asset",
            remediation="Use asset keys such as orders/daily or wildcards such as orders/*.",
        )
    if job is None or (isinstance(job, str) and not job) or _is_asset_job(job):
        if not keys:
            raise ValidationError(
                "nothing to run: choose a job or select assets",
                remediation="Pick a job, or type an asset selection such as orders/*.",
            )
        return Target(client.asset_job_ref(keys, discovery), tuple(keys))
    if isinstance(job, str):
        job = client.resolve_job(job, repository=repository, location=location, discovery=discovery)
    return Target(job, tuple(keys))


def _is_asset_job(job: str | JobRef) -> bool:
    from daglab._client._models import ASSET_JOB

    return (job.name if not isinstance(job, str) else job) == ASSET_JOB


def validate_config(
    job: str | JobRef | None,
    config: str | Mapping[str, Any] | None = None,
    *,
    assets: str | Sequence[str] | None = None,
    conn: Connection | None = None,
) -> ConfigCheck:
    """Check YAML syntax, then Dagster's own validation against the job's schema.

    Launches nothing. A syntax error or an unreachable server is reported, not raised.
    """
    try:
        parsed = parse_config(config)
    except DaglabError as exc:
        return ConfigCheck(False, (str(exc),))
    connection = _connection(conn)
    if not connection.ok:
        return ConfigCheck(None, (connection.problem or "not connected",), parsed)
    client = connection.require()
    try:
        target = _target(client, job, assets)
        problems = client.validate_config(target.job, parsed, target.asset_selection or None)
    except DaglabError as exc:
        return ConfigCheck(None, (str(exc),), parsed)
    if problems:
        return ConfigCheck(False, tuple(p.message for p in problems), parsed)
    return ConfigCheck(True, (), parsed)


def queue_position(conn: Connection | None = None) -> tuple[int, int]:
    """``(in_flight, limit)``: daglab's runs in flight in Dagster and the concurrency bound."""
    from daglab._runs import daglab_runs_in_flight

    connection = _connection(conn)
    client = connection.require()
    assert connection.loaded is not None  # noqa: S101  type narrowing, an invariant
    limit = connection.loaded.config.performance.max_concurrent_runs
    return len(daglab_runs_in_flight(client)), limit


def run_job(
    job: str | JobRef | None = None,
    *,
    config: str | Mapping[str, Any] | None = None,
    assets: str | Sequence[str] | None = None,
    repository: str | None = None,
    location: str | None = None,
    conn: Connection | None = None,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    on_launch: Callable[[Run], None] | None = None,
    on_update: Callable[[Run, float], None] | None = None,
    on_queue: Callable[[int], None] | None = None,
    state: NotebookState | None = None,
    tracker: PerformanceTracker | None = None,
) -> Outcome:
    """Validate, launch (within ``performance.max_concurrent_runs``) and, by default, wait.

    ``partition`` is the partition to run (multi-dimensional as ``dim=key,dim=key``); a
    partitioned target needs one, and an unknown key raises before anything is launched (a
    partitioned job's config then comes from its partition). ``timeout`` bounds the whole call
    as ``daglab run --timeout`` does, the wait for a free slot included (default:
    ``performance.max_wait_time``); with ``wait=False`` a slot is waited for only as long as an
    explicit ``timeout`` allows. ``on_launch`` sees the run (and its URL) as soon as Dagster
    accepts it; ``on_update`` sees every status while waiting. Invalid config raises before
    anything is launched. The run is added to ``state['run_ids']`` and its duration to
    ``tracker``.
    """
    import time

    from daglab._partitions._backfill import PartitionChoice
    from daglab._runs import Outcome, finish, partition_tags, plan_partitions
    from daglab._runs import launch as launch_run
    from daglab._runs import validate as validate_run

    started = time.monotonic()
    connection = _connection(conn)
    client = connection.require()
    assert connection.loaded is not None  # noqa: S101  type narrowing, an invariant
    performance = connection.loaded.config.performance
    parsed = parse_config(config)
    target = _target(client, job, assets, repository=repository, location=location)
    try:
        plan = plan_partitions(
            client, target, PartitionChoice(key=partition) if partition else None
        )
    except ValidationError as exc:
        raise ValidationError(
            exc.message,
            remediation="Pass partition='KEY' (multi-dimensional as 'dim=key,dim=key') for a"
            " partitioned target, and none for another; nothing was launched.",
            **exc.details,
        ) from exc
    if plan.config is not None and not parsed:
        parsed = plan.config  # a partitioned job's config comes from its partition
    validate_run(client, target, parsed)
    limit = timeout if timeout is not None else performance.max_wait_time
    allowed = limit if wait or timeout is not None else 0.0
    if state is not None:
        state.update("last_config", parsed)
    run = launch_run(
        client,
        target,
        parsed,
        tags=partition_tags(plan, tags or {}),
        max_concurrent=performance.max_concurrent_runs,
        on_queue=on_queue,
        deadline=started + allowed,
    )
    if state is not None:
        state.append("run_ids", run.run_id)
        state.append("runs", {"run_id": run.run_id, "target": target.label, "config": parsed})
    if on_launch is not None:
        on_launch(run)
    if not wait:
        return Outcome(run)
    outcome = finish(
        client,
        run,
        timeout=max(0.1, limit - (time.monotonic() - started)),
        cancel_on_timeout=False,
        on_update=on_update,
        stated_timeout=limit,
    )
    if tracker is not None and outcome.run.duration is not None:
        tracker.record(
            target.label,
            "ui",
            outcome.run.duration,
            outcome.succeeded,
            run_id=outcome.run.run_id,
        )
    return outcome
