"""Partitions in notebooks: the picker a partitioned target's notebook gets (keys from Dagster,
else from the definitions), ``run_job(partition=)``, and run_job's bound on the wait for a slot.

Scaffolding and launching use the multi-location fixture served by the real ``dagster dev``;
the slot test uses the sample project's ``slow_job``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daglab import helpers
from daglab._errors import ConflictError, ValidationError
from tests.conftest import FIXTURES
from tests.dagster_server import DagsterServer
from tests.integration.test_scaffold import marimo_check

pytestmark = pytest.mark.dagster

PICKER = "partition_select = views.partition_picker(TARGET, conn, project=mo.notebook_dir())"


def copy_shop(root: Path, url: str) -> Path:
    shutil.copytree(FIXTURES / "multi_location_project", root)
    (root / ".git").mkdir()
    (root / "daglab.yaml").write_text(f"dagster:\n  url: {url}\n  graphql: {{max_retries: 0}}\n")
    return root


def scaffold(root: Path, *args: str) -> tuple[Path, str]:
    exe = Path(sys.executable).parent / "daglab"
    done = subprocess.run(
        [str(exe), "scaffold", *args, "--no-git-commit", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path = Path(json.loads(done.stdout)["path"])
    return path, path.read_text()


def picker_keys(root: Path, target: dict[str, object]) -> dict[str, object]:
    """What the picker offers, computed in a kernel-like subprocess run from the project."""
    code = (
        "import json, sys\n"
        "from daglab import helpers\n"
        "from daglab._notebooks.partitions import partition_keys\n"
        "conn = helpers.connect()\n"
        f"found = partition_keys(json.loads({json.dumps(json.dumps(target))}), conn)\n"
        "print(json.dumps({'keys': list(found.keys), 'source': found.source,"
        " 'default': found.default, 'problem': found.problem, 'label': found.label}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_partitioned_targets_get_a_picker_others_do_not(
    shop_server: DagsterServer, tmp_path: Path
) -> None:
    root = copy_shop(tmp_path / "live", shop_server.url)
    path, text = scaffold(root, "--asset", "shop/daily_sales")
    assert PICKER in text
    assert "partition=partition_select.value," in text  # the launch cell
    assert "partition_key=partition_select.value," in text  # the in-process cell
    marimo_check(path)

    job_path, job_text = scaffold(root, "--job", "partitioned_export_job")
    assert PICKER in job_text and "partition=partition_select.value," in job_text
    marimo_check(job_path)

    plain_path, plain_text = scaffold(root, "--asset", "shop/orders")
    assert "partition" not in plain_text
    marimo_check(plain_path)

    live = picker_keys(root, {"kind": "asset", "name": "shop/regional_daily_sales"})
    assert live["source"] == "dagster"
    assert "2024-01-01|eu" in live["keys"]  # type: ignore[operator]
    assert live["label"] == "Partition (from Dagster)"
    job = picker_keys(root, {"kind": "job", "name": "partitioned_export_job"})
    assert job["source"] == "dagster" and job["default"] == job["keys"][-1]  # type: ignore[index]
    assert "2024-01-01" in job["keys"]  # type: ignore[operator]


def test_offline_the_picker_comes_from_the_definitions(tmp_path: Path) -> None:
    root = copy_shop(tmp_path / "offline", "http://127.0.0.1:9")
    path, text = scaffold(root, "--asset", "shop/regional_daily_sales")
    assert PICKER in text
    marimo_check(path)

    keys = picker_keys(root, {"kind": "asset", "name": "shop/regional_daily_sales"})
    assert keys["source"] == "definitions" and keys["label"] == "Partition (from the definitions)"
    assert "2024-01-02|apac" in keys["keys"]  # type: ignore[operator]
    dynamic = picker_keys(root, {"kind": "asset", "name": "shop/customer_report"})
    assert dynamic["keys"] == [] and dynamic["default"] is None
    assert "not in the code" in str(dynamic["problem"])


def test_run_job_runs_a_partition(shop_server: DagsterServer, tmp_path: Path) -> None:
    root = copy_shop(tmp_path / "run", shop_server.url)
    conn = helpers.connect(project=root)
    assert conn.ok, conn.problem
    outcome = helpers.run_job(
        None, assets=["shop/regional_daily_sales"], partition="date=2024-01-06,region=us", conn=conn
    )
    assert outcome.succeeded, outcome.to_dict()
    assert outcome.run.tags["dagster/partition"] == "2024-01-06|us"
    job = helpers.run_job("partitioned_export_job", partition="2024-01-09", conn=conn)
    assert job.succeeded and job.run.tags["dagster/partition"] == "2024-01-09"

    with pytest.raises(ValidationError, match="is partitioned") as missing:
        helpers.run_job(None, assets=["shop/daily_sales"], conn=conn)
    assert "partition='KEY'" in missing.value.remediation
    with pytest.raises(ValidationError, match="did you mean"):
        helpers.run_job(None, assets=["shop/daily_sales"], partition="2024-01-32", conn=conn)


def test_run_job_bounds_the_wait_for_a_slot(
    dagster_server: DagsterServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "sample"
    shutil.copytree(FIXTURES / "sample_dagster_project", root)
    (root / ".git").mkdir()
    (root / "daglab.yaml").write_text(
        f"dagster:\n  url: {dagster_server.url}\nperformance:\n  max_concurrent_runs: 1\n"
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a launch lock of its own
    conn = helpers.connect(project=root)
    assert conn.ok, conn.problem
    slow = "ops:\n  sleep_op:\n    config:\n      seconds: 60\n"
    first = helpers.run_job("slow_job", config=slow, conn=conn, wait=False)
    try:
        started = time.monotonic()
        with pytest.raises(ConflictError, match="no free slot"):
            helpers.run_job("slow_job", config=slow, conn=conn, timeout=3)
        assert time.monotonic() - started < 30
        with pytest.raises(ConflictError):  # no wait: a slot only within an explicit timeout
            helpers.run_job("slow_job", config=slow, conn=conn, wait=False)
    finally:  # the server is shared: leave no run of ours in flight for the next test
        client = conn.require()
        client.terminate(first.run.run_id)
        assert client.wait(first.run.run_id, timeout=120).finished
