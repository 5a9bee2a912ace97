"""``daglab run`` on a project shaped like real ones (the three-location fixture in a real
``dagster dev``): partitions and backfills, asset checks, a location that fails to load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer, graphql
from tests.integration.test_discover import env_for

pytestmark = pytest.mark.dagster

RUNS = "{ runsOrError { ... on Runs { results { runId tags { key value } } } } }"


def run(server: DagsterServer, cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_daglab("run", *args, cwd=cwd, env=env_for(server), timeout=400)


def run_count(server: DagsterServer) -> int:
    return len(graphql(server, RUNS)["data"]["runsOrError"]["results"])


def test_partitions_are_checked_before_anything_is_launched(
    shop_server: DagsterServer, git_project: Path
) -> None:
    before = run_count(shop_server)
    missing = run(shop_server, git_project, "--asset-selection", "shop/daily_sales")
    assert missing.exit_code == 7, missing
    assert "is partitioned" in missing.stderr and "--partition KEY" in missing.stderr
    unknown = run(
        shop_server, git_project, "--asset-selection", "shop/regional_orders", "--partition", "eux"
    )
    assert unknown.exit_code == 7, unknown
    assert "did you mean eu" in unknown.stderr
    flat = run(shop_server, git_project, "--job", "orders_job", "--partition", "2024-01-01")
    assert flat.exit_code == 7 and "not partitioned" in flat.stderr
    wrong_dims = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/regional_daily_sales",
        "--partition",
        "day=2024-01-01,region=eu",
    )
    assert wrong_dims.exit_code == 7 and "date, region" in wrong_dims.stderr
    broken = run(shop_server, git_project, "--job", "revenue_job", "--location", "broken_location")
    assert broken.exit_code == 7
    assert "broken_location failed to load" in broken.stderr
    assert run_count(shop_server) == before, "a refused launch created a run"


def test_a_partition_run_and_a_job_whose_config_comes_from_its_partitions(
    shop_server: DagsterServer, git_project: Path
) -> None:
    multi = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/regional_daily_sales",
        "--partition",
        "region=us,date=2024-01-02",
        "--json",
    )
    assert multi.exit_code == 0, multi
    assert json.loads(multi.stdout)["tags"]["dagster/partition"] == "2024-01-02|us"
    job = run(
        shop_server, git_project, "--job", "partitioned_export_job", "--partition", "2024-02-29"
    )
    assert job.exit_code == 0, job
    assert "SUCCESS" in job.stderr


def test_an_error_check_fails_the_run_and_a_warning_does_not(
    shop_server: DagsterServer, git_project: Path
) -> None:
    failed = run(shop_server, git_project, "--job", "orders_job")
    assert failed.exit_code == 4, failed
    assert "check shop/orders:orders_enough_rows failed (ERROR)" in failed.stderr
    assert "check shop/orders:orders_ideal_rows failed (WARN)" in failed.stderr
    assert "asset checks failed: shop/orders:orders_enough_rows" in failed.stderr
    as_json = run(shop_server, git_project, "--job", "orders_job", "--json")
    assert as_json.exit_code == 4
    details = json.loads(as_json.stdout)
    assert details["status"] == "SUCCESS" and details["exit_code"] == 4
    assert "asset checks failed" in details["error"]["message"]
    names = {c["name"]: c for c in details["checks"]}
    assert names["orders_positive"]["passed"] is True
    assert [c["name"] for c in details["failed_checks"]] == ["orders_enough_rows"]


def test_only_warn_failures_leave_a_run_successful() -> None:
    from daglab._checks import CheckResult
    from daglab._client import Run
    from daglab._runs import Outcome

    warned = Outcome(
        Run("r", "SUCCESS"),
        checks=[CheckResult("a", "soft", passed=False, severity="WARN")],
    )
    assert warned.succeeded
    errored = Outcome(
        Run("r", "SUCCESS"),
        checks=[CheckResult("a", "hard", passed=False, severity="ERROR")],
    )
    assert not errored.succeeded
    assert errored.to_dict()["failed_checks"][0]["name"] == "hard"


def test_a_partition_range_is_one_backfill_followed_to_its_end(
    shop_server: DagsterServer, git_project: Path
) -> None:
    done = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/weekly_sales",
        "--partition-range",
        "2024-01-07...2024-01-21",
        "--json",
    )
    assert done.exit_code == 0, done
    answer = json.loads(done.stdout)
    assert answer["launch"] == "backfill"
    assert answer["why_backfill"] == "shop/weekly_sales has no single-run backfill policy"
    assert answer["partitions"] == ["2024-01-07", "2024-01-14", "2024-01-21"]
    assert answer["succeeded"] == 3 and answer["failed"] == []
    assert "/runs/b/" in answer["url"]
    backwards = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/weekly_sales",
        "--partition-range",
        "2024-01-21...2024-01-07",
    )
    assert backwards.exit_code == 7 and "runs backwards" in backwards.stderr


RUN_TAGS = (
    "query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value }"
    " assetMaterializations { partition } } } }"
)
BACKFILLS = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id } } } }"


def backfill_count(server: DagsterServer) -> int:
    answer = graphql(server, BACKFILLS)["data"]["partitionBackfillsOrError"]
    return len(answer["results"])


@pytest.mark.parametrize(
    "target",
    [["--asset-selection", "shop/daily_totals"], ["--job", "daily_totals_job"]],
    ids=["assets", "asset-job"],
)
def test_a_range_of_a_single_run_asset_is_one_run(
    shop_server: DagsterServer, git_project: Path, target: list[str]
) -> None:
    runs, backfills = run_count(shop_server), backfill_count(shop_server)
    done = run(
        shop_server, git_project, *target, "--partition-range", "2024-02-01...2024-02-10", "--json"
    )
    assert done.exit_code == 0, done
    answer = json.loads(done.stdout)
    assert answer["launch"] == "single-run" and answer["status"] == "SUCCESS"
    assert answer["partitions"] == [f"2024-02-{d:02}" for d in range(1, 11)]
    assert answer["error"] is None
    assert [s["step"] for s in answer["steps"]] == ["shop__daily_totals"]
    # Dagster saw one run over the range, no backfill, and a materialization per partition
    assert run_count(shop_server) == runs + 1
    assert backfill_count(shop_server) == backfills
    recorded = graphql(shop_server, RUN_TAGS, {"id": answer["run_id"]})["data"]["runOrError"]
    tags = {t["key"]: t["value"] for t in recorded["tags"]}
    assert tags["dagster/asset_partition_range_start"] == "2024-02-01"
    assert tags["dagster/asset_partition_range_end"] == "2024-02-10"
    assert "dagster/partition" not in tags
    assert sorted(m["partition"] for m in recorded["assetMaterializations"]) == answer["partitions"]


def test_the_output_says_which_way_a_range_was_launched(
    shop_server: DagsterServer, git_project: Path
) -> None:
    one_run = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/daily_totals",
        "--partition-range",
        "2024-03-01...2024-03-03",
    )
    assert one_run.exit_code == 0, one_run
    assert "as one run over 3 partitions (2024-03-01 .. 2024-03-03)" in one_run.stderr
    assert "▸ shop__daily_totals running" in one_run.stderr
    mixed = run(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/daily_totals,shop/daily_sales",
        "--partition-range",
        "2024-03-01...2024-03-02",
        "--no-wait",
        "--json",
    )
    assert mixed.exit_code == 0, mixed
    answer = json.loads(mixed.stdout)
    assert answer["launch"] == "backfill"
    assert answer["why_backfill"] == "shop/daily_sales has no single-run backfill policy"
