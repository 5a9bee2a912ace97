"""The session's real `dagster dev` server is up and serves the sample project as expected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.dagster_server import LOCATION_NAME, REPOSITORY_NAME, DagsterServer, graphql

pytestmark = pytest.mark.dagster


def _data(server: DagsterServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = graphql(server, query, variables)
    assert not body.get("errors"), body.get("errors")
    return body["data"]


def test_server_info_reports_versions(dagster_server: DagsterServer) -> None:
    response = httpx.get(f"{dagster_server.url}/server_info", timeout=10)
    assert response.status_code == 200
    info = response.json()
    assert info["dagster_version"].startswith("1.")
    assert info["dagster_webserver_version"] == info["dagster_version"]


def test_fixture_describes_the_server(dagster_server: DagsterServer) -> None:
    assert dagster_server.host == "127.0.0.1"
    assert dagster_server.url == f"http://127.0.0.1:{dagster_server.port}"
    assert dagster_server.graphql_url == f"{dagster_server.url}/graphql"
    assert (dagster_server.dagster_home / "dagster.yaml").is_file()
    assert (dagster_server.project_dir / "workspace.yaml").is_file()
    assert dagster_server.log_path.is_file()
    assert dagster_server.pid > 0


def test_instance_lives_in_the_temporary_dagster_home(dagster_server: DagsterServer) -> None:
    data = _data(dagster_server, "{ instance { info } }")
    assert str(dagster_server.dagster_home) in data["instance"]["info"]


def test_workspace_has_sample_location_loaded(dagster_server: DagsterServer) -> None:
    data = _data(
        dagster_server,
        """
        {
          workspaceOrError {
            __typename
            ... on Workspace {
              locationEntries {
                name
                loadStatus
                locationOrLoadError {
                  __typename
                  ... on RepositoryLocation { name repositories { name } }
                }
              }
            }
          }
        }
        """,
    )
    workspace = data["workspaceOrError"]
    assert workspace["__typename"] == "Workspace"
    entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
    assert list(entries) == [LOCATION_NAME]
    entry = entries[LOCATION_NAME]
    assert entry["loadStatus"] == "LOADED"
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation"
    assert location["name"] == LOCATION_NAME
    assert [repo["name"] for repo in location["repositories"]] == [REPOSITORY_NAME]


JOBS = """
{
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } jobs { name FIELDS } }
    }
  }
}
"""


def test_jobs_are_listed(dagster_server: DagsterServer) -> None:
    from daglab._compat.graphql import document_file

    version = _data(dagster_server, "{ version }")["version"]
    if document_file("discover", "discover.graphql", version) != "discover.graphql":
        # Up to Dagster 1.12.13 resolving isAssetJob raises (why discover has a variant).
        broken = graphql(dagster_server, JOBS.replace("FIELDS", "isAssetJob"))
        assert "_batch_loader" in str(broken.get("errors")), broken
        names = _data(dagster_server, JOBS.replace("FIELDS", ""))["repositoriesOrError"]
        assert {"configurable_job", "quick_asset_job"} <= {
            job["name"] for job in names["nodes"][0]["jobs"]
        }
        return
    data = _data(dagster_server, JOBS.replace("FIELDS", "isAssetJob"))
    repositories = data["repositoriesOrError"]
    assert repositories["__typename"] == "RepositoryConnection"
    (repo,) = repositories["nodes"]
    assert repo["name"] == REPOSITORY_NAME
    assert repo["location"]["name"] == LOCATION_NAME
    jobs = {job["name"]: job["isAssetJob"] for job in repo["jobs"]}
    assert {
        "configurable_job": False,
        "slow_job": False,
        "failing_job": False,
        "quick_asset_job": True,
        "daily_orders_job": True,
    }.items() <= jobs.items()


def test_configurable_job_requires_run_config(dagster_server: DagsterServer) -> None:
    selector = {
        "pipelineName": "configurable_job",
        "repositoryName": REPOSITORY_NAME,
        "repositoryLocationName": LOCATION_NAME,
    }
    data = _data(
        dagster_server,
        """
        query Check($selector: PipelineSelector!, $good: RunConfigData, $bad: RunConfigData) {
          runConfigSchemaOrError(selector: $selector) {
            __typename
            ... on RunConfigSchema { rootDefaultYaml }
          }
          good: isPipelineConfigValid(pipeline: $selector, mode: "default", runConfigData: $good) {
            __typename
          }
          bad: isPipelineConfigValid(pipeline: $selector, mode: "default", runConfigData: $bad) {
            __typename
            ... on RunConfigValidationInvalid { errors { reason message } }
          }
        }
        """,
        {
            "selector": selector,
            "good": {"ops": {"multiply": {"config": {"multiplier": 2, "label": "y"}}}},
            "bad": {},
        },
    )
    assert data["runConfigSchemaOrError"]["__typename"] == "RunConfigSchema"
    assert "label: x" in data["runConfigSchemaOrError"]["rootDefaultYaml"]
    assert data["good"]["__typename"] == "PipelineConfigValidationValid"
    assert data["bad"]["__typename"] == "RunConfigValidationInvalid"
    assert [e["reason"] for e in data["bad"]["errors"]] == ["MISSING_REQUIRED_FIELD"]


ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    description
    isPartitioned
    partitionKeys
    partitionDefinition { type }
    jobNames
    kinds
    tags { key value }
    owners {
      __typename
      ... on UserAssetOwner { email }
      ... on TeamAssetOwner { team }
    }
  }
}
"""


@pytest.fixture(scope="module")
def asset_nodes(dagster_server: DagsterServer) -> dict[str, dict[str, Any]]:
    data = _data(dagster_server, ASSET_NODES_QUERY)
    return {"/".join(node["assetKey"]["path"]): node for node in data["assetNodes"]}


def test_asset_keys_and_groups(asset_nodes: dict[str, dict[str, Any]]) -> None:
    assert {key: node["groupName"] for key, node in asset_nodes.items()} == {
        "orders/raw_orders": "orders",
        "orders/cleaned_orders": "orders",
        "orders/daily_orders": "orders",
        "daily_summary": "analytics",
        "scaled_summary": "analytics",
    }
    assert all(node["description"] for node in asset_nodes.values())


def test_partitioned_asset(asset_nodes: dict[str, dict[str, Any]]) -> None:
    partitioned = {key for key, node in asset_nodes.items() if node["isPartitioned"]}
    assert partitioned == {"orders/daily_orders"}
    daily = asset_nodes["orders/daily_orders"]
    assert daily["partitionDefinition"]["type"] == "TIME_WINDOW"
    assert daily["partitionKeys"][0] == "2024-01-01"
    assert len(daily["partitionKeys"]) == 31
    assert "daily_orders_job" in daily["jobNames"]


def test_asset_metadata(asset_nodes: dict[str, dict[str, Any]]) -> None:
    raw = asset_nodes["orders/raw_orders"]
    assert raw["kinds"] == ["python"]
    tags = {tag["key"]: tag["value"] for tag in raw["tags"]}
    # Kinds are also surfaced as `dagster/kind/<kind>` tags with an empty value.
    assert tags == {"layer": "raw", "domain": "orders", "dagster/kind/python": ""}
    assert raw["owners"] == [
        {"__typename": "TeamAssetOwner", "team": "data"},
        {"__typename": "UserAssetOwner", "email": "alice@example.com"},
    ]
    assert sorted(asset_nodes["orders/cleaned_orders"]["kinds"]) == ["pandas", "python"]
    assert "quick_asset_job" in asset_nodes["daily_summary"]["jobNames"]
