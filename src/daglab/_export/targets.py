"""The assets an export attaches to: ``asset://KEY[:PARTITION]`` and ``--job``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from daglab._errors import (
    UsageError,
    ValidationError,
    did_you_mean,
)

if TYPE_CHECKING:
    from daglab._client import DagsterClient

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


def _check_partition(client: DagsterClient, attach: AttachTarget) -> None:
    """The webserver records an observation on any partition string; a typo must not."""
    keys = client.partition_keys(attach.path)
    if attach.partition in keys:
        return
    if not keys:
        known = "It has no partition keys yet (a sensor or a run adds dynamic partitions)"
    elif len(keys) <= 5:
        known = f"Its partition keys: {', '.join(keys)}"
    else:
        known = f"Its {len(keys)} partition keys run from {keys[0]} to {keys[-1]}"
    raise ValidationError(
        f"asset {attach.key!r} has no partition {attach.partition!r}"
        + did_you_mean(str(attach.partition), keys),
        remediation=f"{known}; nothing was exported or attached.",
    )


def resolve_targets(
    client: DagsterClient,
    *,
    attach: AttachTarget | None = None,
    job: str | None = None,
) -> list[AttachTarget]:
    """The assets an export attaches to, each checked against the webserver.

    ``attach`` is one asset (its partition, if any, must be one of the asset's). ``job`` means
    every asset the job materializes; a job of ops only has no asset, and Dagster keeps no
    metadata on a job itself, so that is an error (exit 7) that says what to do instead.
    """
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
        if attach.partition is not None and not asset.partitioned:
            raise ValidationError(
                f"asset {attach.key!r} is not partitioned, so it has no partition"
                f" {attach.partition!r}",
                remediation=f"Drop the partition: --attach asset://{attach.key}",
            )
        if attach.partition is not None:
            _check_partition(client, attach)
        return [attach]
    if job is None:
        return []
    jobs = {j.name for j in discovery.jobs}
    if job not in jobs:
        raise ValidationError(
            f"no job named {job!r} on {client.base_url}" + did_you_mean(job, jobs),
            remediation="`daglab discover --filter jobs` lists every job.",
        )
    assets = sorted(asset.path for asset in discovery.assets if job in asset.jobs)
    if not assets:
        raise ValidationError(
            f"job {job!r} materializes no assets, and Dagster has no place for metadata on a"
            " job: it keeps metadata on assets (observations) and on a run's outputs while the"
            " run executes, and a finished run's tags cannot be changed through its API",
            remediation="Attach to an asset with --attach asset://KEY, or record the export"
            " from an op with context.add_output_metadata({...}) in the job's next run.",
        )
    return [AttachTarget(path) for path in assets]
