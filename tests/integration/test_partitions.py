"""``daglab partitions`` against a real ``dagster dev`` serving the three-location fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer, graphql
from tests.integration.test_discover import env_for

pytestmark = pytest.mark.dagster


def partitions(server: DagsterServer, cwd: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return run_daglab("partitions", *args, cwd=cwd, env={**env_for(server), **env})


def keys_in_dagster(server: DagsterServer, asset: str) -> list[str]:
    answer = graphql(
        server,
        "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) {"
        " ... on AssetNode { partitionKeys } } }",
        {"k": {"path": asset.split("/")}},
    )
    keys: list[str] = answer["data"]["assetNodeOrError"]["partitionKeys"]
    return keys


def test_list_shows_the_definition_and_keys(shop_server: DagsterServer, git_project: Path) -> None:
    static = partitions(shop_server, git_project, "list", "shop/regional_orders", "--json")
    assert static.exit_code == 0, static
    answer = json.loads(static.stdout)
    assert (answer["type"], answer["keys"], answer["location"]) == (
        "STATIC",
        ["eu", "us", "apac"],
        "dagster_shop",
    )
    daily = partitions(shop_server, git_project, "list", "shop/daily_sales")
    assert daily.exit_code == 0, daily
    assert "time_window" in daily.stdout and "2024-01-01" in daily.stdout
    assert "more (--all)" in daily.stdout
    flat = partitions(shop_server, git_project, "list", "shop/orders")
    assert "is not partitioned" in flat.stdout
    unknown = partitions(shop_server, git_project, "list", "shop/order")
    assert unknown.exit_code == 7, unknown
    assert "did you mean shop/orders" in unknown.stderr


def test_add_and_delete_dynamic_partitions(shop_server: DagsterServer, git_project: Path) -> None:
    asset = "shop/customer_report"
    added = partitions(shop_server, git_project, "add", asset, "c-1", "c-2", "--json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout)["added"] == ["c-1", "c-2"]
    assert {"c-1", "c-2"} <= set(keys_in_dagster(shop_server, asset))

    again = partitions(shop_server, git_project, "add", "customer_ids", "c-2", "c-3")
    assert again.exit_code == 0, again
    assert "Already in customer_ids: c-2" in again.stdout
    assert "Added to customer_ids: c-3" in again.stdout

    missing = partitions(shop_server, git_project, "delete", asset, "c-1", "c-9")
    assert missing.exit_code == 7, missing
    assert "Nothing was deleted" in missing.stderr
    assert "c-1" in keys_in_dagster(shop_server, asset)

    deleted = partitions(shop_server, git_project, "delete", asset, "c-1", "c-3")
    assert deleted.exit_code == 0, deleted
    left = keys_in_dagster(shop_server, asset)
    assert "c-1" not in left and "c-3" not in left and "c-2" in left

    not_dynamic = partitions(shop_server, git_project, "add", "shop/regional_orders", "x")
    assert not_dynamic.exit_code == 7
    assert "no dynamic partitions" in not_dynamic.stderr
    bad_key = partitions(shop_server, git_project, "add", asset, "a|b")
    assert bad_key.exit_code == 7


def test_the_sandbox_refuses_before_anything_changes(
    shop_server: DagsterServer, git_project: Path
) -> None:
    before = keys_in_dagster(shop_server, "shop/customer_report")
    refused = partitions(
        shop_server,
        git_project,
        "add",
        "shop/customer_report",
        "sandboxed",
        DAGLAB_SECURITY__SANDBOX_MODE="true",
    )
    assert refused.exit_code == 6, refused
    assert "addDynamicPartition" in refused.stderr
    assert keys_in_dagster(shop_server, "shop/customer_report") == before
