"""Launching runs: resolve the target, validate config, respect the concurrency bound, wait.

Every run daglab launches carries ``daglab/*`` tags; the concurrency bound
(``performance.max_concurrent_runs``) counts daglab's runs still in flight in Dagster itself, so
it holds across processes.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daglab._client import DagsterClient, Discovery, JobRef, Run, StepFailure
from daglab._client._models import LAUNCHED_BY_TAG
from daglab._errors import RunFailedError, UsageError, ValidationError
from daglab._pairs import split_pairs


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


@dataclass
class Outcome:
    run: Run
    timed_out: bool = False
    canceled: bool = False
    failures: list[StepFailure] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.run.status == "SUCCESS"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.run.to_dict(),
            "timed_out": self.timed_out,
            "canceled": self.canceled,
            "failures": [f.__dict__ for f in self.failures],
        }


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
        assert asset_pattern is not None
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


def daglab_runs_in_flight(client: DagsterClient) -> list[Run]:
    return [r for r in client.runs_in_flight() if LAUNCHED_BY_TAG in r.tags]


def wait_for_slot(
    client: DagsterClient,
    limit: int,
    *,
    on_queue: Callable[[int], None] | None = None,
    poll: float = 0.5,
) -> None:
    """Block while ``limit`` of daglab's runs are in flight; report our queue position."""
    while True:
        busy = len(daglab_runs_in_flight(client))
        if busy < limit:
            return
        if on_queue is not None:
            on_queue(busy - limit + 1)
        time.sleep(poll)


def launch(
    client: DagsterClient,
    target: Target,
    run_config: Mapping[str, Any],
    *,
    tags: Mapping[str, str] | None = None,
    max_concurrent: int | None = None,
    on_queue: Callable[[int], None] | None = None,
) -> Run:
    if max_concurrent is not None:
        wait_for_slot(client, max_concurrent, on_queue=on_queue)
    return client.launch(
        target.job, run_config, tags=tags, asset_selection=target.asset_selection or None
    )


def finish(
    client: DagsterClient,
    run: Run,
    *,
    timeout: float | None,
    cancel_on_timeout: bool,
    on_update: Callable[[Run, float], None] | None = None,
) -> Outcome:
    """Wait for ``run``; cancel it on timeout when asked; collect failures."""
    last = client.wait(run.run_id, timeout=timeout, on_update=on_update)
    outcome = Outcome(last)
    if not last.finished:
        outcome.timed_out = True
        if cancel_on_timeout:
            client.terminate(run.run_id)
            outcome.canceled = True
            outcome.run = client.wait(run.run_id, timeout=30)
    if outcome.run.status == "FAILURE":
        outcome.failures = client.failures(run.run_id)
    return outcome


def raise_for(outcome: Outcome, *, timeout: float | None) -> None:
    run = outcome.run
    if outcome.succeeded:
        return
    if outcome.timed_out:
        what = "was canceled" if outcome.canceled else f"is still {run.status} and keeps running"
        raise RunFailedError(
            f"run {run.run_id} did not finish within {timeout:g} s and {what}",
            remediation=f"See {run.url}; raise --timeout to wait longer.",
            run=outcome.to_dict(),
        )
    detail = "; ".join(f.describe() for f in outcome.failures)
    raise RunFailedError(
        f"run {run.run_id} ended {run.status}" + (f": {detail}" if detail else ""),
        remediation=f"See the run's logs at {run.url}",
        run=outcome.to_dict(),
    )
