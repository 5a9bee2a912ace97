"""Choosing what an in-process run runs: the target, its partition, and its selection."""

from __future__ import annotations

from typing import Any

from daglab._errors import ValidationError
from daglab._inprocess._result import Kind

__all__ = ["check_partition", "resolve_target", "selection_for"]


class TargetNotFound(ValidationError):
    """No job or asset of that name in one source (the run may look in the next one)."""


def resolve_target(repository: Any, target: str, kind: Kind, label: str) -> tuple[str, str, Any]:
    """``(kind, display name, AssetKey or None)`` for ``target``."""
    import difflib

    from dagster import AssetKey

    if kind not in ("asset", "job", "auto"):
        raise ValidationError(
            f"kind must be 'asset', 'job' or 'auto', not {kind!r}",
            remediation="Pass kind='asset', kind='job', or leave it out.",
        )
    job_names = [name for name in repository.job_names if not name.startswith("__")]
    graph = repository.asset_graph
    all_keys = graph.get_all_asset_keys()
    if kind != "asset" and target in repository.job_names:
        return "job", target, None
    if kind != "job":
        key = AssetKey.from_user_string(target)
        if key not in all_keys and "/" not in target:
            matches = sorted(k.to_user_string() for k in all_keys if k.path[-1] == target)
            if len(matches) > 1:
                raise ValidationError(
                    f"{target!r} matches {len(matches)} assets: {', '.join(matches)}",
                    remediation=f"Pass the full asset key, e.g. run_inprocess({matches[0]!r}).",
                )
            if matches:
                key = AssetKey.from_user_string(matches[0])
        if key in all_keys:
            if key not in graph.materializable_asset_keys:
                raise ValidationError(
                    f"asset {key.to_user_string()} cannot be materialized here "
                    "(an external or source asset)",
                    remediation="Run an asset that this project materializes.",
                )
            return "asset", key.to_user_string(), key

    asset_names = sorted(k.to_user_string() for k in all_keys)
    pool = {
        "job": job_names,
        "asset": asset_names,
        "auto": [*job_names, *asset_names],
    }[kind]
    close = difflib.get_close_matches(target, pool, n=3, cutoff=0.6)
    by_last = {name.rsplit("/", 1)[-1]: name for name in asset_names} if kind != "job" else {}
    close += [
        by_last[name]
        for name in difflib.get_close_matches(target, list(by_last), n=3, cutoff=0.6)
        if by_last[name] not in close
    ]
    what = {"job": "job", "asset": "asset", "auto": "job or asset"}[kind]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
    raise TargetNotFound(
        f"no {what} named {target!r} in {label}{hint}",
        remediation=(
            f"Pass one of its {len(job_names)} jobs or {len(asset_names)} assets "
            "(asset keys as a/b); `daglab discover` lists them."
        ),
        jobs=job_names,
        assets=asset_names,
    )


def _partition_hint(partitions_def: Any) -> str:
    try:
        keys = partitions_def.get_partition_keys()
    except Exception:  # dynamic partitions need an instance; the hint is optional
        return ""
    if not keys:
        return " (it has no partitions yet)"
    return f" ({len(keys)} keys: {keys[0]} .. {keys[-1]})" if len(keys) > 1 else f" ({keys[0]})"


def check_partition(what: str, partitions_def: Any, partition_key: str | None) -> None:
    """Refuse a missing, unexpected or unknown partition key before anything runs."""
    if partitions_def is None:
        if partition_key is not None:
            raise ValidationError(
                f"{what} is not partitioned, but partition_key={partition_key!r} was given",
                remediation="Leave partition_key out.",
            )
        return
    if partition_key is None:
        raise ValidationError(
            f"{what} is partitioned; pass partition_key{_partition_hint(partitions_def)}",
            remediation="Pass partition_key='...' with one of its partition keys.",
        )
    if dynamic_names(partitions_def):
        return  # dynamic keys are added to the ephemeral instance before the run
    try:
        keys = partitions_def.get_partition_keys()
    except Exception:
        return  # Dagster itself refuses an unknown key when the run starts
    if partition_key not in keys:
        from daglab._errors import did_you_mean

        raise ValidationError(
            f"{what} has no partition {partition_key!r}{did_you_mean(partition_key, keys)}",
            remediation=f"Pass one of its partition keys{_partition_hint(partitions_def)}.",
        )


def dynamic_names(partitions_def: Any) -> dict[str, str]:
    """``{dimension or "": dynamic partitions name}`` for the dynamic parts of a definition."""
    import dagster as dg

    if isinstance(partitions_def, dg.DynamicPartitionsDefinition) and partitions_def.name:
        return {"": partitions_def.name}
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return {
            dim.name: dim.partitions_def.name
            for dim in partitions_def.partitions_defs
            if isinstance(dim.partitions_def, dg.DynamicPartitionsDefinition)
            and dim.partitions_def.name
        }
    return {}


def add_dynamic_partition(instance: Any, partitions_def: Any, partition_key: str) -> None:
    """Add ``partition_key`` (or its dynamic dimensions) to the ephemeral instance."""
    names = dynamic_names(partitions_def)
    if not names:
        return
    if "" in names:
        instance.add_dynamic_partitions(names[""], [partition_key])
        return
    import dagster as dg

    keys = dg.MultiPartitionKey.from_str(partition_key, partitions_def).keys_by_dimension  # type: ignore[attr-defined]
    for dimension, name in names.items():
        if dimension in keys:
            instance.add_dynamic_partitions(name, [keys[dimension]])


def selection_for(repository: Any, key: Any, *, upstream: bool) -> tuple[set[Any], set[Any]]:
    """The assets and asset checks an asset run materializes and evaluates.

    With ``upstream`` every materializable asset upstream of ``key`` joins. Checks come with
    the assets they check; a check that cannot run alone (a multi-asset check over assets not
    all selected) stays out, as Dagster would refuse the whole run otherwise. An upstream
    asset with other partitions than the target makes the run impossible: say so before
    anything runs.
    """
    from dagster import AssetSelection

    graph = repository.asset_graph
    chosen = {key}
    if upstream:
        chosen |= AssetSelection.assets(key).upstream().resolve(graph)
    chosen &= graph.materializable_asset_keys
    target_partitions = graph.get(key).partitions_def
    mismatched = sorted(
        k.to_user_string()
        for k in chosen
        if k != key and graph.get(k).partitions_def not in (None, target_partitions)
    )
    if mismatched:
        raise ValidationError(
            f"asset {key.to_user_string()} reads assets partitioned differently from it "
            f"({', '.join(mismatched)}), which one in-process run cannot materialize together",
            remediation=(
                "Run those assets first with their own partition_key, then this one with "
                "upstream=False and io_managers='project' (so it reads what they stored)."
            ),
        )
    checks: set[Any] = set()
    for assets_def in graph.assets_defs:
        keys = set(assets_def.check_keys)
        if not keys:
            continue
        on_chosen = {c for c in keys if c.asset_key in chosen}
        if assets_def.can_subset or on_chosen == keys:
            checks |= on_chosen
    return chosen, checks
