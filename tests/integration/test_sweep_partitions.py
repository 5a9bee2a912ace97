"""Sweeps with a partition per config, launched in the real `dagster dev` of the multi-location
fixture: checked before any launch, tagged as Dagster's UI tags them, shown per config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_daglab
from tests.dagster_server import DagsterServer
from tests.integration.test_discover import env_for
from tests.integration.test_sweeps import all_run_ids, sweep_runs

pytestmark = pytest.mark.dagster


def write_configs(root: Path, name: str, configs: list[object]) -> str:
    (root / name).write_text(
        f"import json\n\nCONFIG = json.loads({json.dumps(json.dumps(configs))})\n"
    )
    return name


def sweep(server: DagsterServer, cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_daglab("run", *args, cwd=cwd, env=env_for(server), timeout=300)


def tags_by_index(server: DagsterServer, sweep_id: str) -> dict[str, dict[str, str]]:
    runs = sweep_runs(server, sweep_id)
    tags = [{t["key"]: t["value"] for t in run["tags"]} for run in runs]
    return {t["daglab/sweep-index"]: t for t in tags}


def test_each_config_runs_its_partition(shop_server: DagsterServer, git_project: Path) -> None:
    name = write_configs(git_project, "days.py", [{"partition": "2024-01-02"}, {}])
    result = sweep(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/daily_sales",
        "--sweep",
        name,
        "--partition",
        "2024-01-07",  # the default of the config without its own
        "--json",
    )
    assert result.exit_code == 0, result
    payload = json.loads(result.stdout)
    assert [(r["partition"], r["status"]) for r in payload["results"]] == [
        ("2024-01-02", "SUCCESS"),
        ("2024-01-07", "SUCCESS"),
    ]
    tags = tags_by_index(shop_server, payload["sweep_id"])
    assert tags["0"]["dagster/partition"] == "2024-01-02"
    assert tags["1"]["dagster/partition"] == "2024-01-07"


def test_multi_dimensional_and_job_partitions(
    shop_server: DagsterServer, git_project: Path
) -> None:
    multi = write_configs(
        git_project,
        "multi.py",
        [
            {"partition": "date=2024-01-03,region=apac", "label": "apac"},
            {"partition": {"region": "eu", "date": "2024-01-04"}, "label": "eu"},
        ],
    )
    result = sweep(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/regional_daily_sales",
        "--sweep",
        multi,
        "--parallel",
        "2",
    )
    assert result.exit_code == 0, result
    for key in ("2024-01-03|apac", "2024-01-04|eu"):
        assert key in result.stdout  # the summary's partition column
    assert "[2024-01-03|apac]" in result.stderr  # the launch line
    sweep_id = result.stdout.split("sweep ", 1)[1].split()[0]
    tags = tags_by_index(shop_server, sweep_id)
    assert tags["0"]["dagster/partition"] == "2024-01-03|apac"
    assert tags["0"]["dagster/partition/region"] == "apac"
    assert tags["1"]["dagster/partition/date"] == "2024-01-04"

    # A partitioned job: its config comes from the partition, per config.
    job = write_configs(git_project, "job.py", [{"partition": "2024-02-01"}])
    ran = sweep(
        shop_server,
        git_project,
        "--job",
        "partitioned_export_job",
        "--sweep",
        job,
        "--json",
    )
    assert ran.exit_code == 0, ran
    (row,) = json.loads(ran.stdout)["results"]
    assert row["partition"] == "2024-02-01" and row["status"] == "SUCCESS"


def test_bad_partitions_launch_nothing(shop_server: DagsterServer, git_project: Path) -> None:
    before = all_run_ids(shop_server)
    name = write_configs(
        git_project, "bad.py", [{"partition": "2024-01-02"}, {"partition": "2024-01-32"}, {}]
    )
    result = sweep(
        shop_server, git_project, "--asset-selection", "shop/daily_sales", "--sweep", name
    )
    assert result.exit_code == 7, result
    assert "config #1 (#1) (partition '2024-01-32')" in result.stderr
    assert "did you mean" in result.stderr
    assert "config #2 (#2) (no partition)" in result.stderr and "is partitioned" in result.stderr
    assert "--partition KEY" in result.stderr
    assert "config #0" not in result.stderr

    dims = write_configs(git_project, "dims.py", [{"partition": "date=2024-01-02"}])
    wrong = sweep(
        shop_server,
        git_project,
        "--asset-selection",
        "shop/regional_daily_sales",
        "--sweep",
        dims,
        "--json",
    )
    assert wrong.exit_code == 7, wrong
    assert "config #0" in json.loads(wrong.stdout)["message"]

    flat = write_configs(git_project, "flat.py", [{"partition": "x"}])
    unpartitioned = sweep(
        shop_server, git_project, "--asset-selection", "shop/orders", "--sweep", flat
    )
    assert unpartitioned.exit_code == 7, unpartitioned
    assert "is not partitioned" in unpartitioned.stderr
    assert all_run_ids(shop_server) == before
