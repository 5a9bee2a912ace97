"""Launching runs: resolve the target, validate config, respect the concurrency bound, wait.

Every run daglab launches carries ``daglab/*`` tags; the concurrency bound
(``performance.max_concurrent_runs``) counts daglab's runs still in flight in Dagster itself, so
it holds across processes.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._checks import CheckResult, blocking_failures, describe_failures
from daglab._client import DagsterClient, Discovery, JobRef, Run, StepFailure
from daglab._client._models import LAUNCHED_BY_TAG
from daglab._errors import (
    AuthenticationError,
    ConflictError,
    DaglabError,
    RunFailedError,
    UsageError,
    ValidationError,
)
from daglab._events import RunLog, Step
from daglab._pairs import split_pairs
from daglab._partitions._backfill import PARTITION_TAG, PartitionChoice

if TYPE_CHECKING:
    from daglab._partitions import AssetPartitions


@dataclass(frozen=True)
class Target:
    """What to run: a job, or an asset selection launched through ``__ASSET_JOB``."""

    job: JobRef
    asset_selection: tuple[tuple[str, ...], ...] = ()

    @property
    def label(self) -> str:
        if self.asset_selection:
            return ", ".join("/".join(key) for key in self.asset_selection)
        return self.job.name


@dataclass(frozen=True)
class PartitionPlan:
    """The partitions a launch covers: none, one key (a run), or several: one run over the
    range where every asset allows it (:attr:`single_run`), else a backfill."""

    keys: tuple[str, ...] = ()
    all: bool = False
    #: For one key of a partitioned job: the run config and tags Dagster derives for it.
    config: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: The keys of a range launched as one run (range tags); empty: not launched so.
    single_run: tuple[str, ...] = ()
    #: Why a range is a backfill rather than one run (for the output).
    why_backfill: str | None = None

    @property
    def backfill(self) -> bool:
        return (self.all or len(self.keys) > 1) and not self.single_run

    @property
    def launch(self) -> str:
        """How the partitions are launched: "run", "single-run" or "backfill"."""
        return "single-run" if self.single_run else ("backfill" if self.backfill else "run")

    @property
    def key(self) -> str | None:
        return self.keys[0] if len(self.keys) == 1 and not self.all else None


@dataclass
class Outcome:
    """How a run ended, as ``daglab run --wait`` and ``daglab wait`` report it.

    :meth:`report` is the one JSON form of a finished wait, the same keys whether the run
    succeeded or not (see :data:`REPORT_KEYS`).
    """

    run: Run
    timed_out: bool = False
    canceled: bool = False
    failures: list[StepFailure] = field(default_factory=list)
    #: The asset checks the run evaluated; a failed ERROR check fails the run for daglab.
    checks: list[CheckResult] = field(default_factory=list)
    #: Each step's start, end and error, from the run's event log.
    steps: list[Step] = field(default_factory=list)
    #: How the partitions were launched: "run" (none or one), "single-run" (a range in one run).
    launch: str = "run"
    partitions: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.run.status == "SUCCESS" and not blocking_failures(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.run.to_dict(),
            "launch": self.launch,
            "partitions": list(self.partitions),
            "timed_out": self.timed_out,
            "canceled": self.canceled,
            "steps": [step.to_dict() for step in self.steps],
            "failures": [f.__dict__ for f in self.failures],
            "checks": [check.to_dict() for check in self.checks],
            "failed_checks": [c.to_dict() for c in blocking_failures(self.checks)],
        }

    def report(self, error: DaglabError | None = None) -> dict[str, Any]:
        """The JSON report: :meth:`to_dict`, plus ``exit_code`` and ``error`` (None, or the
        ``message``/``remediation``/``exit_code`` of why daglab exits non-zero)."""
        return {
            **self.to_dict(),
            "exit_code": 0 if error is None else int(error.exit_code),
            "error": None
            if error is None
            else {
                "message": error.message,
                "remediation": error.remediation,
                "exit_code": int(error.exit_code),
            },
        }


#: The keys of :meth:`Outcome.report`, in order; the same for every way a run ends:
#: ``run_id, status, job_name, created, started, ended, tags, url, duration`` (the run as Dagster
#: records it; times in seconds since the epoch), ``launch`` ("run" or "single-run"),
#: ``partitions`` (the keys a single-run range covered), ``timed_out``, ``canceled``, ``steps``
#: (``step, status, started, ended, duration, attempts, error``), ``failures`` (``step, message,
#: error_class, cause``), ``checks`` and ``failed_checks`` (``asset, name, passed, severity,
#: description, partition``), ``exit_code`` and ``error``.
REPORT_KEYS = (
    "run_id",
    "status",
    "job_name",
    "created",
    "started",
    "ended",
    "tags",
    "url",
    "duration",
    "launch",
    "partitions",
    "timed_out",
    "canceled",
    "steps",
    "failures",
    "checks",
    "failed_checks",
    "exit_code",
    "error",
)


def parse_run_config(path: Path | None, text: str | None) -> dict[str, Any]:
    """Run config from a YAML file or inline YAML; only plain YAML (no tags) is accepted."""
    from daglab._validation import validate_yaml_config

    if path is not None and text is not None:
        raise UsageError("give --run-config or --config-yaml, not both")
    if path is None and text is None:
        return {}
    from daglab._config import read_text_file

    source = str(path) if path is not None else "--config-yaml"
    what = "run config file"
    raw = read_text_file(path, what=what, error=ValidationError) if path else str(text)
    check = validate_yaml_config(raw)
    if not check.ok:
        where = f", line {check.line}" if check.line else ""
        raise ValidationError(
            f"{source}{where}: {check.problem}",
            remediation="Fix the YAML; run config is a mapping such as"
            " {ops: {my_op: {config: {x: 1}}}}.",
        )
    return check.config


def parse_tags(values: Sequence[str]) -> dict[str, str]:
    return dict(split_pairs(values, flag="--tag", example="team=data"))


def resolve_target(
    client: DagsterClient,
    *,
    job: str | None,
    repository: str | None,
    location: str | None,
    asset_selection: str | None,
    asset_pattern: str | None,
    discovery: Discovery | None = None,
) -> Target:
    chosen = [
        flag
        for flag, value in (
            ("--job", job),
            ("--asset-selection", asset_selection),
            ("--asset-pattern", asset_pattern),
        )
        if value
    ]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of --job, --asset-selection or --asset-pattern"
            + (f" (got {', '.join(chosen)})" if chosen else ""),
            remediation="Example: daglab run --job my_job, or --asset-selection a/b,c",
        )
    discovery = discovery or client.discover()
    if job:
        return Target(
            client.resolve_job(job, repository=repository, location=location, discovery=discovery)
        )
    if asset_selection:
        keys = [tuple(k.strip().split("/")) for k in asset_selection.split(",") if k.strip()]
    else:
        assert asset_pattern is not None  # noqa: S101  type narrowing, an invariant
        keys = match_assets(discovery, asset_pattern)
        if not keys:
            raise ValidationError(
                f"--asset-pattern {asset_pattern!r} matches no asset",
                remediation="`daglab discover --filter assets` lists the asset keys.",
            )
    candidates = [
        a
        for a in discovery.assets
        if (location is None or a.location == location)
        and (repository is None or a.repository == repository)
    ]
    scoped = Discovery(discovery.locations, discovery.jobs, candidates, discovery.groups)
    return Target(client.asset_job_ref(keys, scoped), tuple(keys))


def match_keys(keys: Iterable[str], patterns: str | Sequence[str]) -> list[str]:
    """The keys (``a/b``) matching any of ``patterns`` (``a/b``, ``orders/*``; a string may hold
    several, comma-separated), in the order given."""
    if isinstance(patterns, str):
        patterns = patterns.split(",")
    wanted = [p.strip().strip("/") for p in patterns if p.strip()]
    return [key for key in keys if any(fnmatch.fnmatchcase(key, p) for p in wanted)]


def match_assets(discovery: Discovery, patterns: str | Sequence[str]) -> list[tuple[str, ...]]:
    """Asset key paths matching any of ``patterns`` (see :func:`match_keys`), in discovery order."""
    matched = set(match_keys([a.key for a in discovery.assets], patterns))
    return [a.path for a in discovery.assets if a.key in matched]


def validate(client: DagsterClient, target: Target, run_config: Mapping[str, Any]) -> None:
    problems = client.validate_config(target.job, run_config, target.asset_selection or None)
    if problems:
        raise ValidationError(
            f"run config for {target.label} is invalid:\n"
            + "\n".join(f"  - {p.message}" for p in problems),
            remediation="Fix the run config; nothing was launched.",
            problems=[p.message for p in problems],
        )


def plan_partitions(
    client: DagsterClient, target: Target, choice: PartitionChoice | None
) -> PartitionPlan:
    """Check ``choice`` against the partitions Dagster reports for ``target``, before anything
    is launched: a partitioned target needs one, an unpartitioned one refuses one, and every key
    must exist (exit 7, did-you-mean)."""
    from daglab._partitions import asset_partitions
    from daglab._partitions._backfill import job_partition, resolve_keys

    hint = "pass --partition KEY, --partition-range START...END or --all-partitions"
    if target.asset_selection:
        found = [asset_partitions(client, "/".join(key)) for key in target.asset_selection]
        partitioned = [f for f in found if f.type is not None]
        if not partitioned:
            if choice is not None:
                raise ValidationError(
                    f"{target.label} is not partitioned, but a partition was given",
                    remediation="Drop --partition / --partition-range / --all-partitions.",
                )
            return PartitionPlan()
        first = partitioned[0]
        span = (
            f"{len(first.keys):,} keys: {first.keys[0]} .. {first.keys[-1]}" if first.keys else ""
        )
        if choice is None:
            raise ValidationError(
                f"asset {first.asset} is partitioned ({first.type.lower()}"  # type: ignore[union-attr]
                + (f", {span}" if span else "")
                + "); launching it without a partition would fail in Dagster",
                remediation=f"Nothing was launched; {hint}.",
            )
        keys = resolve_keys(
            choice, first.keys, what=f"asset {first.asset}", dimensions=list(first.dimension_keys)
        )
        for other in partitioned[1:]:
            if set(keys) - set(other.keys):
                raise ValidationError(
                    f"the selected assets have other partitions: {other.asset} has no"
                    f" partition {next(iter(set(keys) - set(other.keys)))!r}",
                    remediation="Launch assets with the same partitions together.",
                )
        if choice.key is None:
            return _range_plan(choice, keys, found)
        dims = sorted(first.dimension_keys)
        tags: dict[str, str] = {}
        if choice.key is not None and dims:
            # as Dagster's UI launches a multi-partition: one tag per dimension besides the key
            tags = {
                f"{PARTITION_TAG}/{d}": k for d, k in zip(dims, keys[0].split("|"), strict=True)
            }
        return PartitionPlan(keys=() if choice.all else tuple(keys), all=choice.all, tags=tags)
    probe = choice.key if choice is not None and choice.key is not None else ""
    available, config, job_tags = job_partition(client, target.job, probe)
    if not available:
        if choice is not None:
            raise ValidationError(
                f"job {target.job.name} is not partitioned, but a partition was given",
                remediation="Drop --partition / --partition-range / --all-partitions.",
            )
        return PartitionPlan()
    if choice is None:
        raise ValidationError(
            f"job {target.job.name} is partitioned ({len(available):,} keys:"
            f" {available[0]} .. {available[-1]}); launching it without a partition would fail",
            remediation=f"Nothing was launched; {hint}.",
        )
    keys = resolve_keys(choice, available, what=f"job {target.job.name}")
    if choice.key is not None:
        return PartitionPlan(keys=tuple(keys), config=config, tags=job_tags)
    from daglab._partitions._single_run import job_assets

    members = job_assets(client, target.job)
    if members is None:
        return PartitionPlan(
            keys=() if choice.all else tuple(keys),
            all=choice.all,
            why_backfill=f"{target.job.name} is an op job",
        )
    return _range_plan(choice, keys, members)


def _range_plan(
    choice: PartitionChoice, keys: Sequence[str], assets: Sequence[AssetPartitions]
) -> PartitionPlan:
    """A range or all partitions: one run when every asset allows it, else a backfill."""
    from daglab._partitions._single_run import single_run_refusal

    refusal = single_run_refusal(assets, len(keys))
    if refusal is None and len(keys) > 1:
        return PartitionPlan(keys=tuple(keys), single_run=tuple(keys))
    if refusal is None:  # a range of one key is that key's run
        return PartitionPlan(keys=tuple(keys))
    return PartitionPlan(
        keys=() if choice.all else tuple(keys), all=choice.all, why_backfill=refusal
    )


def partition_tags(plan: PartitionPlan, tags: Mapping[str, str]) -> dict[str, str]:
    """A partition run's tags: Dagster's for that partition (or the range tags of a range in
    one run), then the user's."""
    if plan.single_run:
        from daglab._partitions._single_run import range_tags

        return {**range_tags(plan.single_run), **tags}
    if plan.key is None:
        return dict(tags)
    return {**plan.tags, PARTITION_TAG: plan.key, **tags}


def daglab_runs_in_flight(client: DagsterClient) -> list[Run]:
    return [r for r in client.runs_in_flight() if LAUNCHED_BY_TAG in r.tags]


def launch_lock_path(start: Path | None = None) -> Path:
    """The lock launches take: ``.daglab/launch.lock`` of the project when it has a ``.daglab/``
    folder, else one per user (so no folder is made, and history not switched on, by a launch)."""
    import os

    from daglab._project import find_project

    project = find_project(start)
    if project.daglab_dir.is_dir():
        return project.daglab_dir / "launch.lock"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "daglab" / "launch.lock"


def launch(
    client: DagsterClient,
    target: Target,
    run_config: Mapping[str, Any],
    *,
    tags: Mapping[str, str] | None = None,
    max_concurrent: int | None = None,
    on_queue: Callable[[int], None] | None = None,
    deadline: float | None = None,
    poll: float = 0.5,
) -> Run:
    """Launch one run; with ``max_concurrent``, only while fewer of daglab's runs are in flight.

    The count is taken from Dagster and the launch made under a file lock
    (:func:`launch_lock_path`), so the bound holds across every daglab process sharing it.
    Waiting for a slot ends at ``deadline`` (``time.monotonic()``): then nothing is launched.
    """
    from daglab._fs import file_lock

    def submit() -> Run:
        return client.launch(
            target.job, run_config, tags=tags, asset_selection=target.asset_selection or None
        )

    if max_concurrent is None:
        return submit()
    lock = launch_lock_path()
    while True:
        with file_lock(lock):
            busy = daglab_runs_in_flight(client)
            if len(busy) < max_concurrent:
                return submit()
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise ConflictError(
                f"no free slot: {len(busy)} of daglab's runs are in flight and"
                f" performance.max_concurrent_runs is {max_concurrent}; nothing was launched",
                remediation="Wait for one to end (`daglab wait RUN_ID`), give a longer --timeout,"
                " or raise performance.max_concurrent_runs.",
                in_flight=[r.run_id for r in busy],
                max_concurrent_runs=max_concurrent,
            )
        if on_queue is not None:
            on_queue(len(busy) - max_concurrent + 1)
        time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - now)))


def finish(
    client: DagsterClient,
    run: Run,
    *,
    timeout: float | None,
    cancel_on_timeout: bool,
    on_update: Callable[[Run, float], None] | None = None,
    stated_timeout: float | None = None,
    on_steps: Callable[[list[Step]], None] | None = None,
) -> Outcome:
    """Wait for ``run``; cancel it on timeout when asked; collect steps, failures and checks.

    With ``on_steps``, the run's event log is read as it grows (one request per look) and each
    batch of step changes is passed on; without, it is read once the run has ended.
    ``stated_timeout`` is the limit to name in messages when ``timeout`` is what is left of it.
    """
    from daglab._events import follow

    log = RunLog(run.run_id)
    if on_steps is None:
        last = client.wait(run.run_id, timeout=timeout, on_update=on_update)
    else:
        last = follow(client, log, timeout=timeout, on_update=on_update, on_steps=on_steps)
    outcome = Outcome(last)
    if not last.finished:
        outcome.timed_out = True
        if cancel_on_timeout:
            named = stated_timeout if stated_timeout is not None else timeout
            try:
                outcome.canceled = _cancel(client, last)
            except AuthenticationError as exc:
                raise AuthenticationError(
                    f"run {run.run_id} did not finish within {named:g} s and is still"
                    f" {last.status}: canceling it was refused ({exc.message})",
                    remediation=f"It keeps running: see {last.url}. {exc.remediation}",
                    run=outcome.to_dict(),
                ) from exc
            outcome.run = client.wait(run.run_id, timeout=30) if outcome.canceled else last
    if outcome.run.finished:
        changed = log.fetch(client)  # the rest of the log: the last steps, checks, failures
        if on_steps is not None and changed:
            on_steps(changed)
        outcome.steps = list(log.steps.values())
        outcome.checks = log.checks()
        if outcome.run.status == "FAILURE":
            outcome.failures = log.failures()
    return outcome


def _cancel(client: DagsterClient, run: Run, *, within: float = 30.0) -> bool:
    """Ask Dagster to terminate ``run``; a run still starting cannot be yet, so ask again."""
    deadline = time.monotonic() + within
    while True:
        if client.terminate(run.run_id):
            return True
        if time.monotonic() >= deadline or client.run(run.run_id).finished:
            return False
        time.sleep(0.5)


def raise_for(
    outcome: Outcome, *, timeout: float | None, shown: Collection[str] = frozenset()
) -> None:
    """Raise (exit 4) unless the run succeeded; the errors of steps in ``shown`` were printed
    already, so the message names those steps without repeating their errors."""
    run = outcome.run
    if outcome.succeeded:
        return
    if outcome.timed_out:
        what = "was canceled" if outcome.canceled else f"is still {run.status} and keeps running"
        if outcome.canceled and run.status != "CANCELED":
            what = f"was asked to cancel (now {run.status})"
        raise RunFailedError(
            f"run {run.run_id} did not finish within {timeout:g} s and {what}",
            remediation=f"See {run.url}; raise --timeout to wait longer.",
            run=outcome.to_dict(),
        )
    if run.status == "SUCCESS":  # Dagster's view; an ERROR-severity check failed
        raise RunFailedError(
            f"run {run.run_id} succeeded in Dagster, but asset checks failed:"
            f" {describe_failures(outcome.checks)}",
            remediation=f"See the checks at {run.url}; fix the data or the checks.",
            run=outcome.to_dict(),
        )
    detail = "; ".join(
        f"step {f.step} failed (its error is above)" if f.step in shown else f.describe()
        for f in outcome.failures
    )
    raise RunFailedError(
        f"run {run.run_id} ended {run.status}" + (f": {detail}" if detail else ""),
        remediation=f"See the run's logs at {run.url}",
        run=outcome.to_dict(),
    )
