"""In-process runs of partitioned assets beside unpartitioned ones, and dynamic partitions added
to the throw-away instance, on the multi-location fixture (no server needed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._errors import ValidationError
from daglab._inprocess import run_inprocess
from tests.conftest import FIXTURES

PROJECT = FIXTURES / "multi_location_project"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("partitions") / "shop"
    shutil.copytree(PROJECT, root)
    (root / ".git").mkdir()
    return root


def _last_day() -> str:
    import dagster as dg

    last = dg.DailyPartitionsDefinition(start_date="2024-01-01").get_last_partition_key()
    assert last is not None
    return last


def test_an_unpartitioned_child_reading_the_last_partition_runs_with_its_parent(
    shop: Path,
) -> None:
    last = _last_day()
    result = run_inprocess("shop/latest_daily_sales", project=shop, partition_key=last)
    assert result.success, result.error
    assert result.selection == ("shop/daily_sales", "shop/latest_daily_sales")
    assert set(result.materialized) == {"shop/daily_sales", "shop/latest_daily_sales"}
    assert result.value == last
    assert result.partition_key == last


def test_a_child_reading_every_partition_fails_as_in_dagster_and_says_why(shop: Path) -> None:
    result = run_inprocess("shop/sales_summary", project=shop, partition_key="2024-01-05")
    assert not result.success
    # the parent's partition was materialized; the child could not load the other partitions
    assert result.materialized == ("shop/daily_sales",)
    assert result.failed_step == "shop__sales_summary"
    assert result.error is not None
    assert "loads the partitions of shop/daily_sales" in result.error
    assert "only partition 2024-01-05" in result.error
    assert "io_managers='project'" in result.error


def test_the_partition_is_required_and_checked_for_the_partitioned_parent(shop: Path) -> None:
    with pytest.raises(ValidationError) as missing:
        run_inprocess("shop/latest_daily_sales", project=shop)
    assert "is not partitioned, but it runs with shop/daily_sales" in missing.value.message
    assert "2024-01-01 .." in missing.value.message
    assert "partition_key" in missing.value.remediation
    with pytest.raises(ValidationError) as unknown:
        run_inprocess("shop/latest_daily_sales", project=shop, partition_key="2024-13-01")
    assert "has no partition '2024-13-01'" in unknown.value.message
    assert "shop/daily_sales (run with shop/latest_daily_sales)" in unknown.value.message
    # alone, the child takes the key for the parents it reads, as Dagster does
    with pytest.raises(ValidationError) as alone:
        run_inprocess(
            "shop/latest_daily_sales", project=shop, partition_key="someday", upstream=False
        )
    assert "has no partition 'someday'" in alone.value.message
    # an unpartitioned asset with unpartitioned parents still refuses a key
    with pytest.raises(ValidationError) as plain:
        run_inprocess("shop/customers", project=shop, partition_key="2024-01-05")
    assert "is not partitioned" in plain.value.message


def test_dynamic_partitions_are_added_to_the_ephemeral_instance(shop: Path) -> None:
    listed = run_inprocess(
        "shop/customer_directory",
        project=shop,
        dynamic_partitions={"customer_ids": ["c-2", "c-1", "c-2"]},
    )
    assert listed.success, listed.error
    assert listed.value == ["c-1", "c-2"]
    # each call starts from an empty instance
    empty = run_inprocess("shop/customer_directory", project=shop)
    assert empty.value == []
    # the partition key of a dynamic asset joins the ones given
    report = run_inprocess(
        "shop/customer_report",
        project=shop,
        partition_key="c-9",
        dynamic_partitions={"customer_ids": ["c-1"]},
    )
    assert report.success, report.error
    assert report.value == "report for c-9"


def test_dynamic_partitions_names_and_keys_are_checked_before_anything_runs(shop: Path) -> None:
    with pytest.raises(ValidationError) as name:
        run_inprocess(
            "shop/customer_directory", project=shop, dynamic_partitions={"customer_id": ["a"]}
        )
    assert "no dynamic partitions definition named 'customer_id'" in name.value.message
    assert "did you mean customer_ids" in name.value.message
    with pytest.raises(ValidationError) as key:
        run_inprocess(
            "shop/customer_directory", project=shop, dynamic_partitions={"customer_ids": ["a|b"]}
        )
    assert "'a|b'" in key.value.message
    with pytest.raises(ValidationError) as text:
        run_inprocess(
            "shop/customer_directory", project=shop, dynamic_partitions={"customer_ids": "c-1"}
        )
    assert "is a string" in text.value.message


QUIET = """
import os, sys, warnings
from pathlib import Path
from daglab._logging import setup_logging
root, home = Path(sys.argv[1]), sys.argv[2]
setup_logging(console_level="WARNING", file=root / ".daglab" / "daglab.log", file_level="INFO")
os.environ["DAGSTER_HOME"] = home  # a folder without dagster.yaml: Dagster warns on opening it
import dagster as dg
from daglab._inprocess import run_inprocess
from daglab._inprocess._quiet import dagster_quiet
with dagster_quiet():
    dg.DagsterInstance.get().dispose()
    warnings.warn("a beta API", dg.BetaWarning)
    warnings.warn("the user's own warning", UserWarning)
result = run_inprocess("shop/monthly_sales", project=root, partition_key="2024-01-01")
print("success", result.success)
dg.DagsterInstance.get().dispose()  # outside the block, Dagster's warning is printed again
"""


def test_dagsters_instance_warnings_go_to_the_log_file_not_the_terminal(
    shop: Path, tmp_path: Path
) -> None:
    """A real process: what reaches its stderr is what the user would see."""
    (shop / ".daglab").mkdir(exist_ok=True)
    home = tmp_path / "home_without_yaml"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", QUIET, str(shop), str(home)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "success True" in done.stdout
    assert done.stderr.count("No dagster instance configuration file") == 1, done.stderr
    assert "BetaWarning" not in done.stderr and "a beta API" not in done.stderr
    assert "the user's own warning" in done.stderr  # not Dagster's: shown as always
    log = (shop / ".daglab" / "daglab.log").read_text()
    assert "No dagster instance configuration file (dagster.yaml) found" in log
    assert "BetaWarning: a beta API" in log
