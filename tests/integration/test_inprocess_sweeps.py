"""In-process sweeps on the multi-location fixture: real subprocesses, no webserver at all.

The project is a copy of ``multi_location_project`` with one more code location, ``probe``: a
job whose op sleeps, fails, crashes or starts a grandchild as its config says, so stopping and
isolation can be observed from outside.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import FIXTURES, run_daglab

PROBE = '''"""A job to watch sweeps from outside: it sleeps, fails, crashes, starts a child."""

import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg


@dg.op(
    config_schema={
        "seconds": dg.Field(float, default_value=0.0),
        "fail": dg.Field(bool, default_value=False),
        "crash": dg.Field(bool, default_value=False),
        "pid_file": dg.Field(str, default_value=""),
        "wait_for": dg.Field(str, default_value=""),
    }
)
def probe(context: dg.OpExecutionContext) -> float:
    config = context.op_config
    if config["pid_file"]:
        grandchild = subprocess.Popen(["sleep", "300"])
        Path(config["pid_file"]).write_text(f"{os.getpid()} {grandchild.pid}")
    deadline = time.monotonic() + 120
    while config["wait_for"] and not Path(config["wait_for"]).exists():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.1)
    if config["crash"]:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(config["seconds"])
    if config["fail"]:
        raise RuntimeError("probe failed on purpose")
    return config["seconds"]


@dg.job
def probe_job() -> None:
    probe()


defs = dg.Definitions(jobs=[probe_job])
'''


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the multi-location fixture (with a ``probe`` location and a ``.daglab/``)."""
    root = Path(shutil.copytree(FIXTURES / "multi_location_project", tmp_path / "shop"))
    (root / ".git").mkdir()
    (root / ".daglab").mkdir()
    (root / "probe").mkdir()
    (root / "probe" / "probe.py").write_text(PROBE)
    with (root / "workspace.yaml").open("a") as workspace:
        workspace.write(
            "  - python_file:\n"
            "      relative_path: probe/probe.py\n"
            "      working_directory: probe\n"
            "      location_name: probe\n"
        )
    return root


@pytest.fixture
def silent_server() -> Iterator[tuple[str, socket.socket]]:
    """A listening socket as ``dagster.url``: any connection to it would be a contact."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/bogus", listener
    listener.close()


def assert_never_contacted(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = listener.accept()
        connection.close()


def probe(**config: object) -> dict[str, object]:
    return {"ops": {"probe": {"config": config}}}


def write_configs(root: Path, configs: list[object], name: str = "configs.py") -> Path:
    path = root / name
    path.write_text(f"import json\n\nCONFIG = json.loads({json.dumps(json.dumps(configs))})\n")
    return path


def history(root: Path) -> list[dict[str, object]]:
    path = root / ".daglab" / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_partitioned_sweep_in_process_contacts_no_webserver(
    shop: Path, silent_server: tuple[str, socket.socket]
) -> None:
    url, listener = silent_server
    days = [{"partition": "2024-01-02", "label": "second"}, {}]
    write_configs(shop, days, "days.py")
    result = run_daglab(
        "run",
        "--asset-selection",
        "shop/daily_sales",
        "--sweep",
        "days.py",
        "--partition",
        "2024-01-05",  # the default of the config without its own
        "--in-process",
        "--json",
        cwd=shop,
        env={"DAGLAB_DAGSTER__URL": url},
        timeout=300,
    )
    assert result.exit_code == 0, result
    payload = json.loads(result.stdout)
    rows = payload["results"]
    assert [(r["label"], r["partition"], r["status"]) for r in rows] == [
        ("second", "2024-01-02", "SUCCESS"),
        ("#1", "2024-01-05", "SUCCESS"),
    ]
    assert len({r["run_id"] for r in rows}) == 2 and all(r["url"] is None for r in rows)
    assert_never_contacted(listener)
    events = history(shop)
    runs = [e for e in events if e["kind"] == "inprocess"]
    assert sorted(str(e["partition_key"]) for e in runs) == ["2024-01-02", "2024-01-05"]
    (sweep,) = [e for e in events if e["kind"] == "sweep"]
    assert sweep["mode"] == "inprocess" and sweep["sweep_id"] == payload["sweep_id"]
    assert sweep["partitions"] == ["2024-01-02", "2024-01-05"]
    assert sweep["successes"] == 2


def test_multi_dimensional_partitions_and_a_table(shop: Path) -> None:
    write_configs(
        shop,
        [
            {"partition": "date=2024-01-02,region=eu"},
            {"partition": {"region": "us", "date": "2024-01-03"}},
        ],
        "multi.py",
    )
    result = run_daglab(
        "run",
        "--asset-selection",
        "shop/regional_daily_sales",
        "--sweep",
        "multi.py",
        "--in-process",
        "--sequential",
        cwd=shop,
        timeout=300,
    )
    assert result.exit_code == 0, result
    assert "1 at a time" in result.stderr
    for key in ("2024-01-02|eu", "2024-01-03|us"):
        assert key in result.stdout  # the summary table's partition column
    assert result.stdout.count("SUCCESS") == 2


def test_bad_partitions_are_exit_7_before_anything_runs(shop: Path) -> None:
    write_configs(shop, [{"partition": "2024-01-01"}, {"partition": "2024-13-01"}, {}], "bad.py")
    result = run_daglab(
        "run",
        "--asset-selection",
        "shop/daily_sales",
        "--sweep",
        "bad.py",
        "--in-process",
        cwd=shop,
        timeout=300,
    )
    assert result.exit_code == 7, result
    assert "config #1" in result.stderr and "'2024-13-01'" in result.stderr
    assert "did you mean 2024-12-01" in result.stderr
    assert "config #2" in result.stderr and "no partition" in result.stderr
    assert "--partition KEY" in result.stderr  # the remedy
    assert "config #0" not in result.stderr
    assert not [e for e in history(shop) if e["kind"] in ("inprocess", "sweep")]

    write_configs(shop, [{"partition": "date=2024-01-02,zone=eu"}], "dims.py")
    dims = run_daglab(
        "run",
        "--asset-selection",
        "shop/regional_daily_sales",
        "--sweep",
        "dims.py",
        "--in-process",
        "--json",
        cwd=shop,
        timeout=300,
    )
    assert dims.exit_code == 7, dims
    error = json.loads(dims.stdout)
    assert "config #0" in error["message"] and "zone" in error["message"]
    assert "date, region" in error["message"]

    # An unpartitioned asset reading a partitioned one runs with a partition of its parent.
    write_configs(shop, [{}], "child.py")
    child = run_daglab(
        "run",
        "--asset-selection",
        "shop/sales_summary",
        "--sweep",
        "child.py",
        "--in-process",
        "--validate-only",
        cwd=shop,
        timeout=300,
    )
    assert child.exit_code == 7, child
    assert "config #0" in child.stderr and "runs with shop/daily_sales" in child.stderr


def test_fail_fast_stops_the_configs_in_flight(shop: Path, tmp_path: Path) -> None:
    pids = tmp_path / "slow.pids"
    configs = [
        probe(fail=True, wait_for=str(pids)),  # fails once the slow one is running
        probe(seconds=120.0, pid_file=str(pids)),
        probe(),
        probe(),
    ]
    write_configs(shop, configs)
    started = time.monotonic()
    result = run_daglab(
        "run",
        "--job",
        "probe_job",
        "--sweep",
        "configs.py",
        "--in-process",
        "--parallel",
        "2",
        "--fail-fast",
        "--json",
        cwd=shop,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 4, result
    assert elapsed < 110, "the slow config was not stopped"
    rows = json.loads(result.stdout)["details"]["results"]
    assert [r["status"] for r in rows] == ["FAILURE", "CANCELED", "SKIPPED", "SKIPPED"]
    assert "probe failed on purpose" in rows[0]["error"]
    child, grandchild = (int(p) for p in pids.read_text().split())
    assert not alive(child) and not alive(grandchild)


def test_a_crash_is_that_configs_failure_and_a_timeout_stops_it(shop: Path) -> None:
    write_configs(shop, [probe(crash=True), probe(seconds=0.1), probe(seconds=120.0)])
    result = run_daglab(
        "run",
        "--job",
        "probe_job",
        "--sweep",
        "configs.py",
        "--in-process",
        "--sequential",
        "--timeout",
        "45",
        "--location",
        "probe",
        "--json",
        cwd=shop,
        timeout=300,
    )
    assert result.exit_code == 4, result
    crashed, fine, slow = json.loads(result.stdout)["details"]["results"]
    assert crashed["status"] == "ERROR" and "signal 9" in crashed["error"]
    assert fine["status"] == "SUCCESS"
    assert slow["status"] == "CANCELED" and "timed out after 45 s" in slow["error"]


def test_ctrl_c_leaves_no_process_behind(shop: Path, tmp_path: Path) -> None:
    files = [tmp_path / f"{i}.pids" for i in range(2)]
    write_configs(shop, [probe(seconds=120.0, pid_file=str(f)) for f in files])
    exe = Path(sys.executable).parent / "daglab"
    daglab = subprocess.Popen(
        [str(exe), "run", "--job", "probe_job", "--sweep", "configs.py", "--in-process"],
        cwd=shop,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not all(f.exists() and f.read_text() for f in files):
            assert daglab.poll() is None, daglab.communicate()
            assert time.monotonic() < deadline, "the configs did not start"
            time.sleep(0.2)
        pids = [int(p) for f in files for p in f.read_text().split()]
        assert all(alive(pid) for pid in pids)
        os.kill(daglab.pid, signal.SIGINT)  # what Ctrl-C sends daglab
        _, err = daglab.communicate(timeout=60)
    finally:
        if daglab.poll() is None:
            os.killpg(daglab.pid, signal.SIGKILL)
            daglab.wait()
    assert daglab.returncode == 130, err
    assert b"Interrupted: sweep" in err
    assert not [pid for pid in pids if alive(pid)]


def test_usage_errors_name_the_flags(shop: Path) -> None:
    write_configs(shop, [{}])
    pattern = run_daglab(
        "run", "--asset-pattern", "shop/*", "--sweep", "configs.py", "--in-process", cwd=shop
    )
    assert pattern.exit_code == 2 and "--asset-pattern" in pattern.stderr
    two = run_daglab(
        "run",
        "--asset-selection",
        "shop/orders,shop/customers",
        "--sweep",
        "configs.py",
        "--in-process",
        cwd=shop,
    )
    assert two.exit_code == 2 and "one target" in two.stderr
    alone = run_daglab("run", "--job", "probe_job", "--in-process", cwd=shop)
    assert alone.exit_code == 2 and "--in-process: these apply only to --sweep" in alone.stderr
    ranged = run_daglab(
        "run",
        "--job",
        "probe_job",
        "--sweep",
        "configs.py",
        "--partition-range",
        "a...b",
        cwd=shop,
    )
    assert ranged.exit_code == 2 and "--partition-range" in ranged.stderr
