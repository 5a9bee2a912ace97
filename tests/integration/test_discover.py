"""`daglab discover` against the real `dagster dev` (subprocess of the installed CLI)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer

pytestmark = pytest.mark.dagster


def env_for(server: DagsterServer) -> dict[str, str]:
    return {"DAGLAB_DAGSTER__HOST": server.host, "DAGLAB_DAGSTER__PORT": str(server.port)}


def discover(server: DagsterServer, cwd: Path, *args: str) -> dict:
    result = run_daglab("discover", "--json", *args, cwd=cwd, env=env_for(server))
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def test_everything_in_one_call(dagster_server: DagsterServer, git_project: Path) -> None:
    found = discover(dagster_server, git_project)
    assert [loc["name"] for loc in found["locations"]] == ["sample_location"]
    assert found["locations"][0]["load_status"] == "LOADED"
    assert found["repos"] == [{"name": "__repository__", "location": "sample_location"}]
    jobs = {job["name"]: job for job in found["jobs"]}
    assert {"configurable_job", "slow_job", "failing_job", "quick_asset_job"} <= set(jobs)
    assert "__ASSET_JOB" not in jobs
    assert jobs["quick_asset_job"]["tags"] == {"purpose": "quick"}
    assets = {asset["key"]: asset for asset in found["assets"]}
    raw = assets["orders/raw_orders"]
    assert raw["group"] == "orders"
    assert raw["kinds"] == ["python"]
    assert set(raw["owners"]) == {"team:data", "alice@example.com"}
    assert raw["tags"] == {"layer": "raw", "domain": "orders"}
    assert raw["location"] == "sample_location"
    assert "generated in-process" in raw["description"]
    assert assets["orders/daily_orders"]["partitioned"] is True
    assert assets["daily_summary"]["group"] == "analytics"


def test_filters(dagster_server: DagsterServer, git_project: Path) -> None:
    only_jobs = discover(dagster_server, git_project, "--filter", "jobs")
    assert set(only_jobs) == {"jobs"}
    pattern = discover(dagster_server, git_project, "--filter", "assets", "--pattern", "orders/*")
    assert {a["key"] for a in pattern["assets"]} == {
        "orders/raw_orders",
        "orders/cleaned_orders",
        "orders/daily_orders",
    }
    by_name = discover(dagster_server, git_project, "--filter", "assets", "--pattern", "*summary")
    assert {a["key"] for a in by_name["assets"]} == {"daily_summary", "scaled_summary"}
    kinds = discover(dagster_server, git_project, "--filter", "assets", "--tags", "kind=pandas")
    assert [a["key"] for a in kinds["assets"]] == ["orders/cleaned_orders"]
    both = discover(
        dagster_server,
        git_project,
        "--tags",
        "domain=orders",
        "--tags",
        "layer=raw",
        "--filter",
        "assets",
    )
    assert {a["key"] for a in both["assets"]} == {"orders/raw_orders", "orders/daily_orders"}
    job_tags = discover(dagster_server, git_project, "--filter", "jobs", "--tags", "purpose=q*")
    assert [j["name"] for j in job_tags["jobs"]] == ["quick_asset_job"]
    repos = discover(dagster_server, git_project, "--filter", "repos", "--filter", "locations")
    assert set(repos) == {"repos", "locations"}


def test_table_output(dagster_server: DagsterServer, git_project: Path) -> None:
    result = run_daglab(
        "discover",
        "--filter",
        "jobs",
        cwd=git_project,
        env={**env_for(dagster_server), "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result
    assert "configurable_job" in result.stdout
    assert "jobs (" in result.stdout


def test_bad_filter_is_usage(dagster_server: DagsterServer, git_project: Path) -> None:
    result = run_daglab(
        "discover", "--filter", "pipelines", cwd=git_project, env=env_for(dagster_server)
    )
    assert result.exit_code == 2


def test_webserver_down_is_exit_5(git_project: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_daglab(
        "discover",
        cwd=git_project,
        env={
            "DAGLAB_DAGSTER__HOST": "127.0.0.1",
            "DAGLAB_DAGSTER__PORT": str(port),
            "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "1",
        },
    )
    assert result.exit_code == 5
    assert "daglab dev" in result.stderr and "dagster dev" in result.stderr
    assert "Traceback" not in result.stderr
