"""In-process runs on a project shaped like real ones: three code locations (one broken), a
package named ``dagster_*``, resources and upstream assets in other files, every partition kind,
asset checks, a ``.env`` and an IO manager of the project's own. No server needed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from daglab._errors import ValidationError
from daglab._inprocess import run_inprocess
from tests.conftest import FIXTURES

PROJECT = FIXTURES / "multi_location_project"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real") / "shop"
    shutil.copytree(PROJECT, root)
    (root / ".git").mkdir()
    return root


def test_each_location_is_searched_and_named(shop: Path) -> None:
    revenue = run_inprocess("analytics/marts/revenue_total", project=shop)
    assert revenue.success, revenue.error
    assert revenue.location == "analytics"
    assert revenue.value == 22

    customers = run_inprocess("shop/customers", project=shop, location="dagster_shop")
    assert customers.location == "dagster_shop"

    with pytest.raises(ValidationError) as unknown:
        run_inprocess("shop/customers", project=shop, location="dagster_shopp")
    assert "did you mean dagster_shop" in unknown.value.message

    with pytest.raises(ValidationError) as broken:
        run_inprocess("anything", project=shop, location="broken_location")
    assert "broken_location.missing_module" in broken.value.message

    with pytest.raises(ValidationError) as missing:
        run_inprocess("no_such_asset", project=shop)
    message = missing.value.message
    assert "in any code location (dagster_shop, analytics, broken_location)" in message
    assert "1 did not load" in message and "broken_location" in message


def test_resources_from_another_file_read_the_env_file_and_leave_the_environment(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_REGION", raising=False)
    monkeypatch.setenv("SHOP_WAREHOUSE_NAME", "from-the-shell")
    result = run_inprocess("shop/customers", project=shop)
    assert result.success, result.error
    # .env wins over the shell, as in `dagster dev`; both are put back afterwards
    assert result.value[0]["table"] == "eu-west.fixture-warehouse.customers"
    assert "SHOP_REGION" not in os.environ
    assert os.environ["SHOP_WAREHOUSE_NAME"] == "from-the-shell"


def test_asset_checks_run_with_their_asset_and_an_error_check_fails_the_run(shop: Path) -> None:
    orders = run_inprocess("shop/orders", project=shop)
    checks = {c.name: c for c in orders.checks}
    assert set(checks) >= {"orders_positive", "orders_enough_rows", "orders_ideal_rows"}
    assert checks["orders_positive"].passed
    assert not checks["orders_enough_rows"].passed
    assert checks["orders_enough_rows"].severity == "ERROR"
    assert not checks["orders_ideal_rows"].passed
    assert checks["orders_ideal_rows"].severity == "WARN"
    assert not orders.success
    assert orders.error == "asset checks failed: shop/orders:orders_enough_rows"
    assert orders.to_dict()["checks"][0].keys() == {
        "asset",
        "name",
        "passed",
        "severity",
        "description",
        "partition",
    }

    # a multi-asset check over customers and orders cannot run for customers alone: it stays
    # out instead of making Dagster refuse the run
    customers = run_inprocess("shop/customers", project=shop)
    assert customers.success, customers.error
    assert [c.name for c in customers.checks] == ["customers_have_ids"]


@pytest.mark.parametrize(
    ("target", "key", "expected", "error"),
    [
        # static, reading shop/orders from another file: its failing ERROR check fails the run
        (
            "shop/regional_orders",
            "apac",
            12,
            "asset checks failed: shop/orders:orders_enough_rows",
        ),
        ("shop/monthly_sales", "2024-03-01", {"month": "2024-03-01"}, None),
        ("shop/customer_report", "customer-7", "report for customer-7", None),  # dynamic
        (
            "shop/regional_daily_sales",
            "2024-01-02|us",
            {"date": "2024-01-02", "region": "us"},
            None,
        ),
    ],
)
def test_every_kind_of_partition(
    shop: Path, target: str, key: str, expected: object, error: str | None
) -> None:
    result = run_inprocess(target, project=shop, partition_key=key)
    assert result.error == error
    assert result.success is (error is None)
    assert result.value == expected
    assert result.partition_key == key


def test_partition_errors_come_before_anything_runs(shop: Path) -> None:
    with pytest.raises(ValidationError) as unknown:
        run_inprocess("shop/regional_orders", project=shop, partition_key="europe")
    assert "has no partition 'europe'" in unknown.value.message
    with pytest.raises(ValidationError) as missing:
        run_inprocess("shop/weekly_sales", project=shop)
    assert "is partitioned; pass partition_key" in missing.value.message
    with pytest.raises(ValidationError) as mixed:
        run_inprocess("shop/sales_summary", project=shop)
    assert "shop/daily_sales" in mixed.value.message
    assert "upstream=False" in mixed.value.remediation


def test_a_job_whose_config_comes_from_its_partitions(shop: Path) -> None:
    result = run_inprocess("partitioned_export_job", project=shop, partition_key="2024-02-29")
    assert result.success, result.error
    assert result.values["export_day"] == "2024-02-29"


def test_project_io_managers_are_replaced_unless_asked_for(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = tmp_path / "analytics-storage"
    monkeypatch.setenv("ANALYTICS_STORAGE", str(storage))
    throwaway = run_inprocess("analytics/marts/revenue_total", project=shop)
    assert throwaway.success, throwaway.error
    assert not storage.exists(), "a throw-away run wrote to the project's storage"

    real = run_inprocess("analytics/marts/revenue_total", project=shop, io_managers="project")
    assert real.success, real.error
    assert (storage / "analytics" / "marts" / "revenue_total.json").read_text() == "22"


def test_dagster_debug_events_only_when_asked(
    shop: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    run_inprocess("shop/monthly_sales", project=shop, partition_key="2024-01-01")
    quiet = capfd.readouterr()
    assert " - DEBUG - " not in quiet.out + quiet.err
    run_inprocess("shop/monthly_sales", project=shop, partition_key="2024-01-01", log_level="DEBUG")
    loud = capfd.readouterr()
    assert " - DEBUG - " in loud.out + loud.err
