"""``daglab discover`` against a real ``dagster dev`` serving a project shaped like real ones:
three code locations (one fails to load), partitions of every kind, asset checks, a schedule
and a sensor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer
from tests.integration.test_discover import env_for

pytestmark = pytest.mark.dagster


@pytest.fixture(scope="module")
def found(shop_server: DagsterServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    cwd = tmp_path_factory.mktemp("discover")
    (cwd / ".git").mkdir()
    result = run_daglab("discover", "--json", cwd=cwd, env=env_for(shop_server))
    assert result.exit_code == 0, result
    answer: dict = json.loads(result.stdout)
    return answer


def test_a_location_that_fails_to_load_is_failed_with_dagsters_error(found: dict) -> None:
    locations = {loc["name"]: loc for loc in found["locations"]}
    assert set(locations) == {"dagster_shop", "analytics", "broken_location"}
    broken = locations["broken_location"]
    assert broken["load_status"] == "FAILED"
    assert "broken_location.missing_module" in broken["error"]
    assert locations["dagster_shop"]["load_status"] == "LOADED"
    assert locations["dagster_shop"]["error"] is None


def test_partitions_definitions_of_every_kind(found: dict) -> None:
    assets = {asset["key"]: asset for asset in found["assets"]}
    static = assets["shop/regional_orders"]["partitions"]
    assert (static["type"], static["count"], static["first"], static["last"]) == (
        "STATIC",
        3,
        "eu",
        "apac",
    )
    daily = assets["shop/daily_sales"]["partitions"]
    assert daily["type"] == "TIME_WINDOW" and daily["first"] == "2024-01-01"
    assert daily["count"] > 1000
    assert assets["shop/customer_report"]["partitions"]["type"] == "DYNAMIC"
    multi = assets["shop/regional_daily_sales"]["partitions"]
    assert multi["type"] == "MULTIPARTITIONED"
    assert {d["name"] for d in multi["dimensions"]} == {"date", "region"}
    assert multi["count"] == daily["count"] * 3
    assert assets["shop/orders"]["partitions"] is None


def test_asset_checks_schedules_and_sensors(found: dict) -> None:
    checks = {(c["asset"], c["name"]): c for c in found["checks"]}
    assert set(checks) == {
        ("shop/orders", "orders_positive"),
        ("shop/orders", "orders_enough_rows"),
        ("shop/orders", "orders_ideal_rows"),
        ("shop/orders", "orders_not_empty"),
        ("shop/customers", "customers_have_ids"),
        ("shop/customers", "customers_not_empty"),
    }
    assert checks[("shop/customers", "customers_have_ids")]["blocking"] is True
    assert checks[("shop/orders", "orders_positive")]["location"] == "dagster_shop"
    [schedule] = found["schedules"]
    assert (schedule["job"], schedule["cron"], schedule["timezone"]) == (
        "orders_job",
        "0 6 * * *",
        "Europe/Berlin",
    )
    assert schedule["state"] in ("RUNNING", "STOPPED")
    [sensor] = found["sensors"]
    assert (sensor["name"], sensor["type"], sensor["jobs"]) == (
        "new_orders_sensor",
        "STANDARD",
        ["orders_job"],
    )


def test_tables_name_the_location_and_filter_new_kinds(
    shop_server: DagsterServer, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    env = {**env_for(shop_server), "COLUMNS": "200"}
    table = run_daglab("discover", "--filter", "locations", cwd=tmp_path, env=env)
    assert table.exit_code == 0, table
    assert "FAILED" in table.stdout and "missing_module" in table.stdout
    checks = run_daglab(
        "discover", "--filter", "checks", "--pattern", "orders_*", cwd=tmp_path, env=env
    )
    assert checks.exit_code == 0, checks
    assert "orders_enough_rows" in checks.stdout and "customers_have_ids" not in checks.stdout
    assert "location" in checks.stdout  # several locations: the column is there
    assets = run_daglab(
        "discover", "--filter", "assets", "--pattern", "shop/regional_orders", cwd=tmp_path, env=env
    )
    assert "static: 3 keys, eu .. apac" in assets.stdout
    bad = run_daglab("discover", "--filter", "checkz", cwd=tmp_path, env=env)
    assert bad.exit_code == 2
    assert "checks, schedules, sensors" in bad.stderr
