"""A range of partitions in one run, where every asset allows it; else a backfill.

Dagster runs a range of partitions in one run when the run carries the range tags
(``dagster/asset_partition_range_start`` and ``_end``): ``dagster asset materialize
--partition-range`` does so, for assets whose backfill policy is ``BackfillPolicy.single_run()``,
and so does its daemon for a backfill of such assets. daglab launches that run itself — no
backfill, no wait for a daemon tick — when every asset the launch covers has a single-run policy
(and the range is within its ``max_partitions_per_run``), the assets are not multi-partitioned,
and the target is assets or an asset job. Anything else is a backfill.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daglab._client import DagsterClient, JobRef
    from daglab._partitions import AssetPartitions

__all__ = ["RANGE_END_TAG", "RANGE_START_TAG", "job_assets", "range_tags", "single_run_refusal"]

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SINGLE_RUN = "SINGLE_RUN"


def single_run_refusal(assets: Sequence[AssetPartitions], count: int) -> str | None:
    """None when a range of ``count`` partitions of ``assets`` can be one run; else why not."""
    if not assets:
        return "no asset to launch"
    for asset in assets:
        if asset.type is None:
            return f"{asset.asset} is not partitioned"
        if asset.type == "MULTIPARTITIONED":
            return f"{asset.asset} is multi-partitioned"
        if asset.backfill_policy != SINGLE_RUN:
            return f"{asset.asset} has no single-run backfill policy"
        limit = asset.max_partitions_per_run
        if limit is not None and count > limit:
            return f"{asset.asset} runs at most {limit} partitions per run"
    return None


def range_tags(keys: Sequence[str]) -> dict[str, str]:
    """The tags that make one run cover ``keys`` (contiguous, in Dagster's order)."""
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def job_assets(client: DagsterClient, job: JobRef) -> list[AssetPartitions] | None:
    """The partitions of every asset of asset job ``job``; None for an op job."""
    from daglab._partitions import asset_partitions

    discovery = client.discover()
    members = [
        a
        for a in discovery.assets
        if job.name in a.jobs and a.location == job.location and a.repository == job.repository
    ]
    if not members:  # only an asset job's assets name it
        return None
    return [asset_partitions(client, a.key) for a in members]
