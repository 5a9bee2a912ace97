"""Partition choices and backfills through Dagster's own mutation, against a real ``dagster dev``
(the three-location fixture, whose daemon runs the backfills)."""

from __future__ import annotations

import pytest

from daglab._client import DagsterClient, JobRef
from daglab._errors import UsageError, ValidationError
from daglab._partitions._backfill import (
    PartitionChoice,
    job_partition,
    launch_backfill,
    multi_key,
    resolve_keys,
    wait_backfill,
)
from tests.dagster_server import DagsterServer

pytestmark = pytest.mark.dagster

KEYS = [f"2024-01-0{d}" for d in range(1, 10)]


def client_for(server: DagsterServer) -> DagsterClient:
    from daglab._config_models import DagsterSettings

    return DagsterClient(DagsterSettings(url=server.url), launched_by="test")  # type: ignore[arg-type]


def test_partition_choices_resolve_against_the_known_keys() -> None:
    choice = PartitionChoice.from_flags(None, "2024-01-02...2024-01-04", False)
    assert resolve_keys(choice, KEYS, what="shop/daily_sales") == KEYS[1:4]
    one = PartitionChoice.from_flags("2024-01-05", None, False)
    assert resolve_keys(one, KEYS, what="x") == ["2024-01-05"]
    assert resolve_keys(PartitionChoice(all=True), KEYS, what="x") == KEYS
    with pytest.raises(ValidationError) as unknown:
        resolve_keys(PartitionChoice(key="2024-01-10"), KEYS, what="shop/daily_sales")
    assert "has no partition '2024-01-10'; did you mean" in unknown.value.message
    assert "nothing was launched" in unknown.value.remediation
    with pytest.raises(ValidationError, match="runs backwards"):
        resolve_keys(PartitionChoice(range=("2024-01-04", "2024-01-02")), KEYS, what="x")
    with pytest.raises(UsageError):
        PartitionChoice.from_flags("a", "a...b", False)
    with pytest.raises(UsageError, match=r"START\.\.\.END"):
        PartitionChoice.from_flags(None, "2024-01-01..2024-01-02", False)
    assert multi_key("region=eu,date=2024-01-02", ["date", "region"]) == "2024-01-02|eu"
    with pytest.raises(ValidationError, match="the asset's are date, region"):
        multi_key("day=2024-01-02,region=eu", ["date", "region"])


def test_a_partitioned_jobs_config_comes_from_dagster(shop_server: DagsterServer) -> None:
    with client_for(shop_server) as client:
        job = JobRef("partitioned_export_job", "__repository__", "dagster_shop")
        keys, config, tags = job_partition(client, job, "2024-02-29")
        assert "2024-01-01" in keys and "2024-02-29" in keys
        assert config == {"ops": {"export_day": {"config": {"day": "2024-02-29"}}}}
        assert tags.get("dagster/partition") == "2024-02-29"
        _, missing, _ = job_partition(client, job, "1999-01-01")
        assert missing is None


def test_asset_and_job_backfills_run_every_partition(shop_server: DagsterServer) -> None:
    seen: list[int] = []
    march = ["2024-03-01", "2024-03-02", "2024-03-03"]
    with client_for(shop_server) as client:
        job = JobRef("partitioned_export_job", "__repository__", "dagster_shop")
        # both launched before either is followed: the daemon works on them together
        assets_id = launch_backfill(client, keys=march, assets=[["shop", "daily_sales"]])
        job_id = launch_backfill(client, keys=["2024-04-01", "2024-04-02"], job=job)
        assets = wait_backfill(
            client, assets_id, timeout=300, on_progress=lambda b: seen.append(b.succeeded)
        )
        jobs = wait_backfill(client, job_id, timeout=300)
    assert assets.finished and assets.ok, assets
    assert assets.succeeded == 3 and not assets.failed
    assert set(assets.partitions) == set(march)
    assert seen and seen[-1] == 3
    assert all(run[1] == "SUCCESS" for run in assets.runs)
    assert jobs.ok, jobs
    assert sorted(p for _, _, p in jobs.runs) == ["2024-04-01", "2024-04-02"]
