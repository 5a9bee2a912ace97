"""Partitions as the webserver knows them: an asset's keys, and dynamic partitions to add or delete.

The keys come from Dagster (``assetNodeOrError``), so dynamic partitions added elsewhere are
there too. Adding and deleting dynamic partitions are mutations (``addDynamicPartition``,
``deleteDynamicPartitions``): the sandbox allow-list applies to them as to a launch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from daglab._errors import ValidationError, did_you_mean

if TYPE_CHECKING:
    from daglab._client import DagsterClient

__all__ = ["AssetPartitions", "DynamicTarget", "add", "asset_partitions", "delete", "dynamic"]


@dataclass(frozen=True)
class AssetPartitions:
    """An asset's partitions definition and its keys now."""

    asset: str
    type: str | None  # None: the asset is not partitioned
    description: str
    keys: tuple[str, ...]
    location: str
    repository: str
    #: ``{dimension or "": dynamic partitions definition name}``
    dynamic: dict[str, str] = field(default_factory=dict)
    #: For multi-partitions, each dimension's own keys.
    dimension_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: The asset's backfill policy: "SINGLE_RUN", "MULTI_RUN" or None (none set).
    backfill_policy: str | None = None
    max_partitions_per_run: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "type": self.type,
            "description": self.description,
            "count": len(self.keys),
            "keys": list(self.keys),
            "location": self.location,
            "repository": self.repository,
            "dynamic": dict(self.dynamic),
            "backfill_policy": self.backfill_policy,
            "max_partitions_per_run": self.max_partitions_per_run,
        }


@dataclass(frozen=True)
class DynamicTarget:
    """Where dynamic partitions live: a definition name in one repository."""

    name: str
    repository: str
    location: str
    #: The keys it has now.
    keys: tuple[str, ...] = ()

    @property
    def selector(self) -> dict[str, str]:
        return {"repositoryName": self.repository, "repositoryLocationName": self.location}


def asset_partitions(client: DagsterClient, asset: str) -> AssetPartitions:
    """The partitions of ``asset`` (``a/b`` key); exit 7 with did-you-mean for an unknown one."""
    from daglab._client._models import dynamic_definitions

    path = [part for part in asset.split("/") if part]
    data = client.execute("asset_partitions", {"assetKey": {"path": path}})
    node = data["assetNodeOrError"]
    if node.get("__typename") != "AssetNode":
        if node.get("__typename") == "AssetNotFoundError":
            known = [a.key for a in client.discover().assets]
            raise ValidationError(
                f"no asset {asset!r} in the webserver's code locations{did_you_mean(asset, known)}",
                remediation="`daglab discover --filter assets` lists the asset keys (a/b).",
            )
        client._check(node, f"asset {asset}")
    definition = node.get("partitionDefinition") or {}
    policy = node.get("backfillPolicy") or {}
    repository = node.get("repository") or {}
    return AssetPartitions(
        asset="/".join(node["assetKey"]["path"]),
        type=definition.get("type"),
        description=str(definition.get("description") or ""),
        keys=tuple(str(key) for key in node.get("partitionKeys") or ()),
        location=str((repository.get("location") or {}).get("name") or ""),
        repository=str(repository.get("name") or ""),
        dynamic=dynamic_definitions(definition),
        dimension_keys={
            str(d["name"]): tuple(str(k) for k in d.get("partitionKeys") or ())
            for d in node.get("partitionKeysByDimension") or ()
            if definition.get("type") == "MULTIPARTITIONED"
        },
        backfill_policy=policy.get("policyType"),
        max_partitions_per_run=policy.get("maxPartitionsPerRun"),
    )


def dynamic(client: DagsterClient, target: str, *, dimension: str | None = None) -> DynamicTarget:
    """The dynamic partitions definition ``target`` names: an asset with dynamic partitions (its
    definition, or its ``dimension``'s for multi-partitions), or a definition's own name."""
    from daglab._client import Discovery

    discovery: Discovery = client.discover()
    assets = {asset.key: asset for asset in discovery.assets}
    if target in assets:
        found = asset_partitions(client, target)
        names = found.dynamic
        if not names:
            raise ValidationError(
                f"asset {target} has no dynamic partitions"
                + (f" (its partitions are {found.type.lower()})" if found.type else ""),
                remediation="Only dynamic partitions can be added or deleted; "
                "`daglab partitions list ASSET` shows what it has.",
            )
        key = dimension if dimension is not None else ("" if "" in names else None)
        if key is None or key not in names:
            dims = ", ".join(n for n in names if n)
            raise ValidationError(
                f"asset {target} has dynamic partitions in its dimension(s) {dims}",
                remediation=f"Pass --dimension with one of: {dims}.",
            )
        keys = found.dimension_keys.get(key, ()) if key else found.keys
        return DynamicTarget(names[key], found.repository, found.location, tuple(keys))
    # A definition name: find a repository whose assets use it.
    for asset in discovery.assets:
        if asset.partitions and target in asset.partitions.dynamic_names:
            found = asset_partitions(client, asset.key)
            dimension = next((d for d, n in found.dynamic.items() if n == target), "")
            keys = found.dimension_keys.get(dimension, ()) if dimension else found.keys
            return DynamicTarget(target, found.repository, found.location, tuple(keys))
    known_names = sorted(
        {n for a in discovery.assets if a.partitions for n in a.partitions.dynamic_names}
    )
    raise ValidationError(
        f"no asset and no dynamic partitions definition named {target!r}"
        + did_you_mean(target, [*assets, *known_names]),
        remediation="Name an asset with dynamic partitions (a/b) or its definition"
        + (f" ({', '.join(known_names)})." if known_names else "."),
    )


def add(client: DagsterClient, where: DynamicTarget, keys: Sequence[str]) -> dict[str, list[str]]:
    """Add ``keys``; ``{"added": [...], "existing": [...]}`` (adding a key twice is no error)."""
    _check_keys(keys)
    added: list[str] = []
    existing: list[str] = []
    for key in dict.fromkeys(keys):
        data = client.execute(
            "add_dynamic_partition",
            {
                "partitionsDefName": where.name,
                "partitionKey": key,
                "repositorySelector": where.selector,
            },
        )
        result = data["addDynamicPartition"]
        kind = result.get("__typename")
        if kind == "AddDynamicPartitionSuccess":
            added.append(key)
        elif kind == "DuplicateDynamicPartitionError":
            existing.append(key)
        else:
            client._check(result, f"adding partition {key!r} to {where.name}")
    return {"added": added, "existing": existing}


def delete(client: DagsterClient, where: DynamicTarget, keys: Sequence[str]) -> list[str]:
    """Delete ``keys`` from ``where``; every key must exist (nothing is deleted otherwise)."""
    _check_keys(keys)
    present = where.keys
    unknown = [key for key in keys if key not in present]
    if unknown:
        raise ValidationError(
            f"{where.name} has no partition {unknown[0]!r}{did_you_mean(unknown[0], present)}"
            + (f" (and {len(unknown) - 1} more unknown)" if len(unknown) > 1 else ""),
            remediation="Nothing was deleted; `daglab partitions list ASSET` shows the keys.",
        )
    wanted = list(dict.fromkeys(keys))
    data = client.execute(
        "delete_dynamic_partitions",
        {
            "partitionsDefName": where.name,
            "partitionKeys": wanted,
            "repositorySelector": where.selector,
        },
    )
    client._check(data["deleteDynamicPartitions"], f"deleting partitions of {where.name}")
    return wanted


def _check_keys(keys: Sequence[str]) -> None:
    if not keys:
        raise ValidationError("no partition key given", remediation="Name at least one key.")
    for key in keys:
        if not key or key != key.strip() or any(ch in key for ch in ",[]|\n\r\t"):
            raise ValidationError(
                f"partition key {key!r} is not usable: empty, padded, or with , [ ] | or a"
                " line break",
                remediation="Dagster reserves those characters; choose another key.",
            )
