"""The assets an export attaches to: ``asset://KEY[:PARTITION]`` and ``--job``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from daglab._errors import (
    UsageError,
    ValidationError,
    did_you_mean,
)

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._partitions import AssetPartitions
    from daglab._partitions._backfill import PartitionChoice

ASSET_SCHEME = "asset://"


@dataclass(frozen=True)
class AttachTarget:
    """An asset (and optionally one of its partitions) to attach an export to."""

    path: tuple[str, ...]
    partition: str | None = None

    @property
    def key(self) -> str:
        return "/".join(self.path)

    def __str__(self) -> str:
        return ASSET_SCHEME + self.key + (f":{self.partition}" if self.partition else "")


def parse_attach(text: str) -> AttachTarget:
    """``asset://orders/daily_orders:2024-01-05`` -> AttachTarget; bad syntax exits 2.

    The partition is everything after the first ``:`` (partition keys may hold colons; asset
    key parts cannot).
    """
    remedy = "Write --attach asset://KEY[:PARTITION], e.g. asset://orders/daily_orders:2024-01-05."
    if not text.startswith(ASSET_SCHEME):
        raise UsageError(
            f"--attach {text!r} does not start with {ASSET_SCHEME}", remediation=remedy
        )
    rest = text[len(ASSET_SCHEME) :]
    key, colon, partition = rest.partition(":")
    parts = key.split("/")
    if not key or any(not part.strip() or part != part.strip() for part in parts):
        raise UsageError(
            f"--attach {text!r}: the asset key is empty or malformed", remediation=remedy
        )
    if colon and not partition.strip():
        raise UsageError(f"--attach {text!r}: the partition after ':' is empty", remediation=remedy)
    return AttachTarget(tuple(parts), partition if colon else None)


def _as_target(asset: str | Sequence[str] | AttachTarget, partition: str | None) -> AttachTarget:
    if isinstance(asset, AttachTarget):
        target = asset
    elif isinstance(asset, str) and asset.startswith(ASSET_SCHEME):
        target = parse_attach(asset)
    elif isinstance(asset, str):
        target = AttachTarget(tuple(asset.strip("/").split("/")))
    else:
        target = AttachTarget(tuple(asset))
    if partition is not None:
        target = replace(target, partition=partition)
    return target


def _known(found: AssetPartitions) -> str:
    keys = found.keys
    if not keys:
        return "It has no partition keys yet (a sensor or a run adds dynamic partitions)"
    if len(keys) <= 5:
        return f"Its partition keys: {', '.join(keys)}"
    return f"Its {len(keys)} partition keys run from {keys[0]} to {keys[-1]}"


def _resolve(found: AssetPartitions, choice: PartitionChoice) -> list[str]:
    """The keys ``choice`` names among the asset's (a multi-dimensional key as dim=key,...)."""
    from daglab._partitions._backfill import resolve_keys

    try:
        return resolve_keys(
            choice, found.keys, what=f"asset {found.asset!r}", dimensions=list(found.dimension_keys)
        )
    except ValidationError as exc:
        remedy = exc.remediation
        if "has no partition" in exc.message:
            # the webserver records an observation on any partition string; a typo must not
            remedy = f"{_known(found)}; nothing was exported or attached."
        raise ValidationError(exc.message, remediation=remedy, **exc.details) from exc


#: Asks which partition(s) to attach to, given the asset's partitions (a terminal's prompt).
Chooser = Callable[["AssetPartitions"], "PartitionChoice"]


def _choose(
    found: AssetPartitions,
    choice: PartitionChoice | None,
    choose: Chooser | None,
    what: str,
) -> tuple[PartitionChoice, list[str]]:
    if choice is None and choose is not None:
        choice = choose(found)
    if choice is None:
        span = (
            f" ({len(found.keys):,} keys: {found.keys[0]} .. {found.keys[-1]})"
            if found.keys
            else ""
        )
        example = found.keys[-1] if found.keys else "KEY"
        raise ValidationError(
            f"{what} is partitioned{span}: an export attaches to one of its partitions, or to"
            " every one, never to the asset as a whole",
            remediation=f"Pass --partition KEY (e.g. --partition {example}) or --all-partitions;"
            " nothing was exported or attached.",
        )
    return choice, _resolve(found, choice)


def resolve_targets(
    client: DagsterClient,
    *,
    attach: AttachTarget | None = None,
    job: str | None = None,
    partition: str | None = None,
    all_partitions: bool = False,
    choose: Chooser | None = None,
) -> list[AttachTarget]:
    """The assets (and partitions) an export attaches to, each checked against the webserver.

    ``attach`` is one asset; ``job`` means every asset the job materializes (a job of ops only
    has no asset, and Dagster keeps no metadata on a job itself, so that is an error, exit 7,
    that says what to do instead). A partitioned asset needs a partition - ``attach``'s own,
    ``partition`` (``dim=key,dim=key`` for multi-partitions), ``all_partitions`` (one target
    per key), or what ``choose`` answers - and each key must be one of the asset's (exit 7,
    did-you-mean). An unpartitioned asset of a job is attached to as a whole.
    """
    from daglab._partitions import asset_partitions
    from daglab._partitions._backfill import PartitionChoice

    if attach is not None and attach.partition is not None:
        if all_partitions or (partition is not None and partition != attach.partition):
            raise UsageError(
                f"--attach {attach} names a partition already; give it once",
                remediation="Drop --partition / --all-partitions, or the :PARTITION.",
            )
        partition = attach.partition
    if partition is not None and all_partitions:
        raise UsageError("--partition and --all-partitions exclude each other")
    choice = PartitionChoice.from_flags(partition, None, all_partitions)
    discovery = client.discover()
    by_key = {asset.path: asset for asset in discovery.assets}
    if attach is not None:
        asset = by_key.get(attach.path)
        if asset is None:
            raise ValidationError(
                f"no asset {attach.key!r} on {client.base_url}"
                + did_you_mean(attach.key, (a.key for a in discovery.assets)),
                remediation="`daglab discover --filter assets` lists the asset keys;"
                " nothing was exported or attached.",
            )
        if not asset.partitioned:
            if choice is not None:
                raise ValidationError(
                    f"asset {attach.key!r} is not partitioned, so it has no partition"
                    + (f" {choice.key!r}" if choice.key is not None else "s"),
                    remediation=f"Drop the partition: --attach asset://{attach.key}",
                )
            return [AttachTarget(attach.path)]
        found = asset_partitions(client, attach.key)
        _, keys = _choose(found, choice, choose, f"asset {attach.key!r}")
        return [AttachTarget(attach.path, key) for key in keys]
    if job is None:
        return []
    jobs = {j.name for j in discovery.jobs}
    if job not in jobs:
        raise ValidationError(
            f"no job named {job!r} on {client.base_url}" + did_you_mean(job, jobs),
            remediation="`daglab discover --filter jobs` lists every job.",
        )
    assets = sorted((a for a in discovery.assets if job in a.jobs), key=lambda a: a.path)
    if not assets:
        raise ValidationError(
            f"job {job!r} materializes no assets, and Dagster has no place for metadata on a"
            " job: it keeps metadata on assets (observations) and on a run's outputs while the"
            " run executes, and a finished run's tags cannot be changed through its API",
            remediation="Attach to an asset with --attach asset://KEY, or record the export"
            " from an op with context.add_output_metadata({...}) in the job's next run.",
        )
    partitioned = [a for a in assets if a.partitioned]
    if not partitioned and choice is not None:
        raise ValidationError(
            f"job {job!r} materializes no partitioned asset, so it has no partitions",
            remediation=f"Drop --partition / --all-partitions: --job {job}",
        )
    targets: list[AttachTarget] = []
    for asset in assets:
        if not asset.partitioned:
            targets.append(AttachTarget(asset.path))
            continue
        found = asset_partitions(client, asset.key)
        what = f"asset {asset.key!r} of job {job!r}"
        # asked (at most) once: the answer is the job's partition for all its assets
        choice, keys = _choose(found, choice, choose, what)
        targets += [AttachTarget(asset.path, key) for key in keys]
    return targets
