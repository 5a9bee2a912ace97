"""Choosing what an in-process run runs: the target, its partition, and its selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from daglab._errors import ValidationError
from daglab._inprocess._result import Kind

__all__ = [
    "check_child_partition",
    "check_dynamic_partitions",
    "check_partition",
    "resolve_target",
    "run_partitions",
    "selection_for",
]


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
    all selected) stays out, as Dagster would refuse the whole run otherwise. One run has one
    partition key, so the partitioned assets it selects must share one partitions definition
    (unpartitioned ones run beside them, as in Dagster): say so before anything runs.
    """
    from dagster import AssetSelection

    graph = repository.asset_graph
    chosen = {key}
    if upstream:
        chosen |= AssetSelection.assets(key).upstream().resolve(graph)
    chosen &= graph.materializable_asset_keys
    target_partitions = graph.get(key).partitions_def
    partitioned = {k: graph.get(k).partitions_def for k in chosen}
    partitioned = {k: d for k, d in partitioned.items() if d is not None}
    if target_partitions is not None:
        mismatched = sorted(
            k.to_user_string() for k, d in partitioned.items() if d != target_partitions
        )
    else:
        first = next(iter(partitioned.values()), None)
        differ = any(d != first for d in partitioned.values())
        mismatched = sorted(k.to_user_string() for k in partitioned) if differ else []
    if mismatched:
        raise ValidationError(
            f"asset {key.to_user_string()} reads assets partitioned differently"
            + (" from it" if target_partitions is not None else " from each other")
            + f" ({', '.join(mismatched)}), which one in-process run (one partition key)"
            " cannot materialize together",
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


def run_partitions(
    repository: Any, key: Any, chosen: set[Any], partition_key: str | None
) -> tuple[Any, list[str]]:
    """The partitions definition an asset run's ``partition_key`` applies to, and the assets
    of the run (or, for an unpartitioned asset run alone, its parents) that have it.

    As in Dagster, an unpartitioned asset runs beside partitioned ones: the key picks their
    partition, and the unpartitioned asset stays unpartitioned (it reads the partitions its
    partition mapping names - every one, by default). Run alone with a key, it reads its
    partitioned parents that way too, so the key must be one of theirs.
    """
    graph = repository.asset_graph
    own = graph.get(key).partitions_def
    if own is not None:
        return own, [key.to_user_string()]
    pool = {k for k in chosen if graph.get(k).partitions_def is not None}
    if not pool and partition_key is not None:
        pool = {
            k
            for k in graph.get(key).parent_keys
            if graph.has(k) and graph.get(k).partitions_def is not None
        }
    if not pool:
        return None, []
    definitions: list[Any] = []
    for k in sorted(pool, key=lambda k: k.to_user_string()):
        if graph.get(k).partitions_def not in definitions:
            definitions.append(graph.get(k).partitions_def)
    names = sorted(k.to_user_string() for k in pool)
    if len(definitions) > 1:
        raise ValidationError(
            f"asset {key.to_user_string()} reads assets partitioned differently from each"
            f" other ({', '.join(names)}): one partition_key cannot name a partition of each",
            remediation="Run each of them with its own partition_key first.",
        )
    return definitions[0], names


def check_child_partition(
    name: str, owners: list[str], partitions_def: Any, key: str | None
) -> None:
    """An unpartitioned asset run with partitioned ones needs the key for those."""
    if key is None:
        them = "it is" if len(owners) == 1 else "they are"
        raise ValidationError(
            f"asset {name} is not partitioned, but it runs with {', '.join(owners)}, and {them}"
            f" partitioned{_partition_hint(partitions_def)}",
            remediation=(
                f"Pass partition_key='...': the partition of {', '.join(owners)} this run"
                f" materializes ({name} itself stays unpartitioned), or pass upstream=False"
                " with io_managers='project' to read what the project's storage holds."
            ),
        )
    check_partition(f"{', '.join(owners)} (run with {name})", partitions_def, key)


#: Characters Dagster reserves in partition keys (it splits multi-partition keys and ranges).
_RESERVED = ",[]|\n\r\t"


def check_dynamic_partitions(
    repository: Any, dynamic_partitions: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """``dynamic_partitions`` checked against the dynamic partitions definitions the
    repository uses: every name must be one of them (did-you-mean), every key usable."""
    if not dynamic_partitions:
        return {}
    from daglab._errors import did_you_mean

    known: set[str] = set()
    for assets_def in repository.asset_graph.assets_defs:
        if assets_def.partitions_def is not None:
            known |= set(dynamic_names(assets_def.partitions_def).values())
    for job_name in repository.job_names:
        job_partitions = repository.get_job(job_name).partitions_def
        if job_partitions is not None:
            known |= set(dynamic_names(job_partitions).values())
    checked: dict[str, list[str]] = {}
    for name, keys in dynamic_partitions.items():
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ValidationError(
                f"no dynamic partitions definition named {name!r} in these definitions"
                + did_you_mean(name, sorted(known)),
                remediation=f"Name one of the definitions' dynamic partitions ({listed}).",
            )
        if isinstance(keys, str):
            raise ValidationError(
                f"dynamic_partitions[{name!r}] is a string, not a list of keys",
                remediation=f"Write dynamic_partitions={{{name!r}: [{keys!r}]}}.",
            )
        for key in keys:
            if (
                not isinstance(key, str)
                or not key
                or key != key.strip()
                or any(ch in key for ch in _RESERVED)
            ):
                raise ValidationError(
                    f"dynamic partition key {key!r} of {name!r} is not usable: empty, padded,"
                    " not text, or with , [ ] | or a line break",
                    remediation="Dagster reserves those characters; choose another key.",
                )
        checked[name] = list(dict.fromkeys(keys))
    return checked
