"""Choosing partitions for a run, and backfills through Dagster's own backfill mutation.

``--partition KEY`` (a multi-dimensional key as ``dim=key,dim=key``), ``--partition-range
START...END`` and ``--all-partitions`` resolve against the keys the webserver reports, so an
unknown key is refused (exit 7, did-you-mean) before anything is launched. A range or all
partitions is one run where every asset has a single-run backfill policy
(:mod:`daglab._partitions._single_run`); otherwise one ``launchPartitionBackfill``, and Dagster
decides how to split it into runs, as its UI does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daglab._errors import ValidationError, did_you_mean

if TYPE_CHECKING:
    from daglab._client import DagsterClient, JobRef

__all__ = [
    "Backfill",
    "PartitionChoice",
    "backfill",
    "job_partition",
    "launch_backfill",
    "resolve_keys",
    "wait_backfill",
]

PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"
#: Backfill states after which nothing changes any more.
FINISHED = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})
SUCCEEDED = frozenset({"COMPLETED", "COMPLETED_SUCCESS"})
RANGE_SEPARATOR = "..."


@dataclass(frozen=True)
class PartitionChoice:
    """What the user asked for: one key, a range of keys, or every key."""

    key: str | None = None
    range: tuple[str, str] | None = None
    all: bool = False

    @classmethod
    def from_flags(
        cls, partition: str | None, partition_range: str | None, all_partitions: bool
    ) -> PartitionChoice | None:
        given = [partition is not None, partition_range is not None, all_partitions]
        if sum(given) > 1:
            from daglab._errors import UsageError

            raise UsageError(
                "--partition, --partition-range and --all-partitions exclude each other",
                remediation="Pass one of them.",
            )
        if partition is not None:
            return cls(key=partition)
        if partition_range is not None:
            start, sep, end = partition_range.partition(RANGE_SEPARATOR)
            if not sep or not start or not end:
                from daglab._errors import UsageError

                raise UsageError(
                    f"--partition-range {partition_range!r} is not START...END",
                    remediation="Write it as 2024-01-01...2024-01-31 (three dots).",
                )
            return cls(range=(start, end))
        return cls(all=True) if all_partitions else None

    @property
    def single(self) -> bool:
        return self.key is not None


def multi_key(value: str, dimensions: Sequence[str]) -> str:
    """``date=2024-01-01,region=eu`` as Dagster writes it: the keys in dimension-name order,
    joined by ``|``. A value without ``=`` is taken as already written that way."""
    if "=" not in value:
        return value
    pairs: dict[str, str] = {}
    for part in value.split(","):
        name, sep, key = part.partition("=")
        if not sep or not name.strip() or not key.strip():
            raise ValidationError(
                f"partition {value!r}: {part!r} is not DIMENSION=KEY",
                remediation="Write a multi-dimensional key as date=2024-01-01,region=eu.",
            )
        pairs[name.strip()] = key.strip()
    if dimensions and set(pairs) != set(dimensions):
        raise ValidationError(
            f"partition {value!r} names the dimensions {', '.join(sorted(pairs))}; the asset's"
            f" are {', '.join(sorted(dimensions))}",
            remediation="Give one key for each dimension, e.g. "
            + ",".join(f"{d}=..." for d in sorted(dimensions)),
        )
    return "|".join(pairs[name] for name in sorted(pairs))


def resolve_keys(
    choice: PartitionChoice, available: Sequence[str], *, what: str, dimensions: Sequence[str] = ()
) -> list[str]:
    """The partition keys ``choice`` means for ``what``, in the order Dagster lists them."""
    keys = list(available)

    def known(key: str) -> str:
        key = multi_key(key, dimensions)
        if key not in keys:
            hint = did_you_mean(key, keys)
            span = f" ({len(keys):,} keys: {keys[0]} .. {keys[-1]})" if keys else " (none yet)"
            raise ValidationError(
                f"{what} has no partition {key!r}{hint}",
                remediation=f"Pass one of its partition keys{span}; nothing was launched.",
            )
        return key

    if choice.all:
        if not keys:
            raise ValidationError(
                f"{what} has no partitions yet",
                remediation="Add partitions first (`daglab partitions add` for dynamic ones).",
            )
        return keys
    if choice.key is not None:
        return [known(choice.key)]
    assert choice.range is not None  # noqa: S101  type narrowing, an invariant
    start, end = (known(k) for k in choice.range)
    first, last = keys.index(start), keys.index(end)
    if first > last:
        raise ValidationError(
            f"--partition-range {start}...{end} runs backwards ({start} comes after {end})",
            remediation=f"Write it as {end}...{start}.",
        )
    return keys[first : last + 1]


def job_partition(
    client: DagsterClient, job: JobRef, partition: str
) -> tuple[list[str], dict[str, Any] | None, dict[str, str]]:
    """A partitioned job's keys, and the run config and tags Dagster derives for ``partition``
    (``None`` config when the job has no such partition or no partitions)."""
    import yaml

    data = client.execute(
        "job_partition", {"selector": job.pipeline_selector(), "partitionName": partition}
    )
    node = client._check(data["pipelineOrError"], f"job {job.name}")
    keys = [str(k) for k in (node.get("partitionKeysOrError") or {}).get("partitionKeys") or ()]
    found = node.get("partition")
    if not found or partition not in keys:
        return keys, None, {}
    config = found.get("runConfigOrError") or {}
    if config.get("__typename") != "PartitionRunConfig":
        raise ValidationError(
            f"Dagster could not build the config of {job.name} for partition {partition!r}:"
            f" {config.get('message') or config.get('__typename')}",
            remediation="Fix the job's partitioned config in the project's code.",
        )
    tags = {
        str(t["key"]): str(t["value"])
        for t in (found.get("tagsOrError") or {}).get("results") or ()
    }
    # _loader() is a yaml.SafeLoader subclass: no Python objects are constructed.
    run_config = yaml.load(config.get("yaml") or "", Loader=_loader())  # noqa: S506
    return keys, dict(run_config or {}), tags


def _loader() -> Any:
    """YAML as Dagster writes run config: a date-like value stays the string it was."""
    import yaml

    class NoDates(yaml.SafeLoader):
        pass

    NoDates.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return NoDates


def launch_backfill(
    client: DagsterClient,
    *,
    keys: Sequence[str] | None,
    all_partitions: bool = False,
    assets: Sequence[Sequence[str]] | None = None,
    job: JobRef | None = None,
    tags: dict[str, str] | None = None,
    title: str | None = None,
) -> str:
    """Launch a backfill of ``keys`` (or every partition) of ``assets`` or of ``job``; its id."""
    from daglab._client._models import LAUNCHED_BY_TAG

    all_tags = {LAUNCHED_BY_TAG: client.launched_by, **(tags or {})}
    params: dict[str, Any] = {
        "tags": [{"key": k, "value": v} for k, v in all_tags.items()],
        "title": title,
    }
    if all_partitions:
        params["allPartitions"] = True
    else:
        params["partitionNames"] = list(keys or ())
    if assets:
        params["assetSelection"] = [{"path": list(key)} for key in assets]
    elif job is not None:
        params["selector"] = {
            "partitionSetName": f"{job.name}_partition_set",
            "repositorySelector": {
                "repositoryName": job.repository,
                "repositoryLocationName": job.location,
            },
        }
    else:
        raise ValueError("launch_backfill needs assets or a job")
    data = client.execute("launch_backfill", {"backfillParams": params})
    result = data["launchPartitionBackfill"]
    kind = result.get("__typename")
    if kind == "LaunchBackfillSuccess":
        return str(result["backfillId"])
    if kind == "PartitionKeysNotFoundError":
        raise ValidationError(
            f"Dagster has no partitions {', '.join(result.get('partitionKeys') or [])}",
            remediation="Check the keys with `daglab partitions list ASSET`.",
        )
    if kind == "RunConfigValidationInvalid":
        problems = "; ".join(e["message"] for e in result.get("errors") or [])
        raise ValidationError(f"invalid run config for the backfill: {problems}")
    client._check(result, "launching the backfill")
    from daglab._client._client import ServerError

    raise ServerError(f"launching the backfill: {result.get('message') or kind}")


@dataclass(frozen=True)
class Backfill:
    """A backfill's state: how many partitions are done, which failed, which runs it made."""

    id: str
    status: str
    partitions: tuple[str, ...]
    runs: tuple[tuple[str, str, str | None], ...] = ()  # (run id, status, partition)
    succeeded: int = 0
    failed: tuple[str, ...] = ()
    in_progress: int = 0
    error: str | None = None
    started: float | None = None
    ended: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def ok(self) -> bool:
        return (
            self.finished and not self.failed and self.status in ("COMPLETED", "COMPLETED_SUCCESS")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "backfill_id": self.id,
            "status": self.status,
            "partitions": list(self.partitions),
            "succeeded": self.succeeded,
            "failed": list(self.failed),
            "in_progress": self.in_progress,
            "runs": [{"run_id": r, "status": s, "partition": p} for r, s, p in self.runs],
            "error": self.error,
            "started": self.started,
            "ended": self.ended,
        }


def backfill(client: DagsterClient, backfill_id: str) -> Backfill:
    data = client.execute("backfill", {"backfillId": backfill_id})
    node = client._check(data["partitionBackfillOrError"], f"backfill {backfill_id}")
    runs = []
    for run in node.get("runs") or ():
        tags = {t["key"]: t["value"] for t in run.get("tags") or ()}
        runs.append((str(run["runId"]), str(run["status"]), tags.get(PARTITION_TAG)))
    partitions = tuple(str(p) for p in node.get("partitionNames") or ())
    done = ("SUCCESS", "FAILURE", "CANCELED")
    if any(partition for _, _, partition in runs):
        # one run per partition: per partition, the newest run decides (Dagster lists the
        # newest first; a retried partition has several)
        latest: dict[str, str] = {}
        for _, status, partition in reversed(runs):
            if partition is not None:
                latest[partition] = status
        failed = tuple(p for p, s in latest.items() if s in ("FAILURE", "CANCELED"))
        succeeded = sum(1 for s in latest.values() if s == "SUCCESS")
        in_progress = sum(1 for s in latest.values() if s not in done)
    else:
        # a single-run backfill (a range in one run), or no run yet: the runs speak for all
        statuses = [status for _, status, _ in runs]
        failing = any(s in ("FAILURE", "CANCELED") for s in statuses)
        failed = partitions if failing else ()
        succeeded = len(partitions) if statuses and all(s == "SUCCESS" for s in statuses) else 0
        in_progress = len(partitions) if any(s not in done for s in statuses) else 0
    error = (node.get("error") or {}).get("message")
    return Backfill(
        id=str(node["id"]),
        status=str(node.get("status") or "?"),
        partitions=partitions,
        runs=tuple(runs),
        succeeded=succeeded,
        failed=failed,
        in_progress=in_progress,
        error=error,
        started=node.get("timestamp"),
        ended=node.get("endTimestamp"),
    )


def wait_backfill(
    client: DagsterClient,
    backfill_id: str,
    *,
    timeout: float | None,
    on_progress: Callable[[Backfill], None] | None = None,
    poll: float = 1.0,
    poll_initial: float = 0.25,
) -> Backfill:
    """Follow the backfill until it finishes (or ``timeout`` seconds pass); its last state.

    Looks start ``poll_initial`` apart and grow by half up to ``poll``: a backfill the daemon
    finishes quickly is seen to end soon, a long one costs one request a second.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    interval = min(poll_initial, poll)
    while True:
        state = backfill(client, backfill_id)
        if on_progress is not None:
            on_progress(state)
        if state.finished or (deadline is not None and time.monotonic() >= deadline):
            return state
        pause = interval if deadline is None else min(interval, deadline - time.monotonic())
        time.sleep(max(0.05, pause))
        interval = min(interval * 1.5, poll)
