"""The partition picker of a partitioned target's notebook: its keys, from Dagster or the code.

Dagster's keys come first (dynamic partitions added there are included); when the webserver
does not answer, the keys come from the project's ``Definitions`` (a dynamic definition then
has none: they live in an instance). Nothing here raises: a notebook cell shows the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import DaglabError

if TYPE_CHECKING:
    from daglab._session import Connection

__all__ = ["PartitionKeys", "partition_keys", "partition_picker"]


@dataclass(frozen=True)
class PartitionKeys:
    """A target's partition keys (multi-dimensional ones as ``2024-01-01|eu``), the one a
    picker preselects (the last: the latest of time partitions), and where they came from."""

    keys: tuple[str, ...]
    source: str  # "dagster", "definitions" or "none"
    problem: str | None = None

    @property
    def default(self) -> str | None:
        return self.keys[-1] if self.keys else None

    @property
    def label(self) -> str:
        where = {"dagster": "from Dagster", "definitions": "from the definitions"}
        return f"Partition ({where[self.source]})" if self.source in where else "Partition"


def partition_keys(
    target: Mapping[str, Any], conn: Connection | None = None, *, project: Path | None = None
) -> PartitionKeys:
    """The keys of the notebook's ``TARGET`` (a job, an asset, or a selection's first asset)."""
    problems: list[str] = []
    if conn is not None and conn.ok:
        try:
            return PartitionKeys(_from_dagster(target, conn), "dagster")
        except DaglabError as exc:
            problems.append(f"Dagster: {exc.message}")
    try:
        return PartitionKeys(_from_definitions(target, project), "definitions")
    except DaglabError as exc:
        problems.append(f"definitions: {exc.message}")
    except Exception as exc:  # the project's own code raised while loading
        problems.append(f"definitions: {type(exc).__name__}: {exc}")
    return PartitionKeys((), "none", "; ".join(problems))


def _asset_of(target: Mapping[str, Any]) -> str | None:
    if target.get("kind") == "job":
        return None
    return str(target.get("attach_to") or target.get("name"))


def _from_dagster(target: Mapping[str, Any], conn: Connection) -> tuple[str, ...]:
    from daglab._partitions import asset_partitions
    from daglab._partitions._backfill import job_partition

    client = conn.require()
    asset = _asset_of(target)
    if asset is not None:
        return asset_partitions(client, asset).keys
    job = client.resolve_job(
        str(target["name"]), repository=target.get("repository"), location=target.get("location")
    )
    keys, _config, _tags = job_partition(client, job, "")
    return tuple(keys)


def _from_definitions(target: Mapping[str, Any], project: Path | None) -> tuple[str, ...]:
    from daglab._errors import ValidationError
    from daglab._inprocess import load_repositories
    from daglab._project import find_project

    if project is not None and project.is_file():
        project = project.parent
    asset = _asset_of(target)
    location = target.get("location")
    for repository, _module, where in load_repositories(find_project(project)):
        if location and where and where != location:
            continue
        if asset is not None:
            from dagster import AssetKey

            key = AssetKey.from_user_string(asset)
            if key not in repository.asset_graph.get_all_asset_keys():
                continue
            definition = repository.asset_graph.get(key).partitions_def
        elif str(target["name"]) in repository.job_names:
            definition = repository.get_job(str(target["name"])).partitions_def
        else:
            continue
        if definition is None:
            return ()
        try:
            return tuple(definition.get_partition_keys())
        except Exception as exc:  # dynamic partitions live in an instance, not in the code
            raise ValidationError(
                f"its partitions are not in the code ({type(exc).__name__})",
                remediation="Start Dagster (`daglab dev`) to pick from the keys it has.",
            ) from exc
    raise ValidationError(
        f"no {target.get('kind')} {target.get('name')!r} in the project's definitions",
        remediation="Check the notebook's TARGET.",
    )


def partition_picker(
    target: Mapping[str, Any], conn: Connection | None = None, *, project: Path | None = None
) -> Any:
    """A marimo dropdown of the target's partition keys, the latest preselected; when there
    are none, its label says why."""
    import marimo as mo

    found = partition_keys(target, conn, project=project)
    label = found.label
    if not found.keys:
        why = (found.problem or "it has none yet")[:200]
        label = f"Partition (no keys: {why})"
    return mo.ui.dropdown(options=list(found.keys), value=found.default, label=label)
