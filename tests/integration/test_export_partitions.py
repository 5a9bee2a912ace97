"""``daglab export --attach/--job`` on partitioned assets of a project shaped like real ones (the
three-location fixture in a real ``dagster dev``): a partition is required and checked, the
observation lands on it in Dagster, and each attachment is exactly one event."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, run_daglab
from tests.dagster_server import DagsterServer, graphql
from tests.integration.test_export import NOTEBOOK

pytestmark = pytest.mark.dagster

OBSERVATIONS = """query($path: [String!]!, $partitions: [String!]) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetObservations(partitions: $partitions, limit: 1000) {
        partition
        metadataEntries {
          __typename label
          ... on TextMetadataEntry { text }
          ... on PathMetadataEntry { path }
        }
      }
    }
  }
}"""


@pytest.fixture
def shop_live(tmp_path: Path, shop_server: DagsterServer) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".daglab").mkdir()
    (root / "daglab.yaml").write_text(f"dagster:\n  url: {shop_server.url}\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "orders.py").write_text(NOTEBOOK)
    return root


def export(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_daglab("export", "notebooks/orders.py", *args, cwd=project, env=env, timeout=300)


def observations(
    server: DagsterServer, key: str, partition: str | None = None
) -> list[dict[str, Any]]:
    """Every observation of ``key`` (of one partition), newest first, entries by label."""
    variables = {"path": key.split("/"), "partitions": [partition] if partition else None}
    node = graphql(server, OBSERVATIONS, variables)["data"]["assetOrError"]
    if node["__typename"] != "Asset":
        return []
    found: list[dict[str, Any]] = node["assetObservations"]
    for observation in found:
        observation["entries"] = {e["label"]: e for e in observation["metadataEntries"]}
    return found


def with_export_id(server: DagsterServer, key: str, export_id: str) -> list[dict[str, Any]]:
    return [
        o
        for o in observations(server, key)
        if (o["entries"].get("exploration_export_id") or {}).get("text") == export_id
    ]


def exported(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "notebooks").iterdir() if ".html" in p.name)


def test_a_partitioned_asset_needs_a_partition_before_anything_runs(
    shop_live: Path, shop_server: DagsterServer
) -> None:
    before = len(observations(shop_server, "shop/daily_sales"))
    for args in (("--job", "daily_rollup_job"), ("--attach", "asset://shop/daily_sales")):
        refused = export(shop_live, *args)
        assert refused.exit_code == 7, refused
        assert "'shop/daily_sales'" in refused.stderr and "is partitioned" in refused.stderr
        assert "--partition KEY" in refused.stderr and "--all-partitions" in refused.stderr
        assert "2024-01-01 .." in refused.stderr
    typo = export(shop_live, "--job", "daily_rollup_job", "--partition", "2024-01-5")
    assert typo.exit_code == 7, typo
    assert "has no partition '2024-01-5'" in typo.stderr and "did you mean" in typo.stderr
    dims = export(
        shop_live, "--attach", "asset://shop/regional_daily_sales", "--partition", "date=2024-01-05"
    )
    assert dims.exit_code == 7 and "region" in dims.stderr, dims
    flat = export(shop_live, "--job", "orders_job", "--partition", "2024-01-05")
    assert flat.exit_code == 7 and "materializes no partitioned asset" in flat.stderr, flat
    twice = export(
        shop_live, "--attach", "asset://shop/daily_sales:2024-01-05", "--partition", "2024-01-06"
    )
    assert twice.exit_code == 2, twice
    alone = export(shop_live, "--partition", "2024-01-05")
    assert alone.exit_code == 2 and "--attach asset://KEY or --job NAME" in alone.stderr, alone
    whole = export(shop_live, "--attach", "asset://shop/customers", "--all-partitions")
    assert whole.exit_code == 7 and "is not partitioned" in whole.stderr, whole
    empty = export(shop_live, "--attach", "asset://shop/customer_report")
    assert empty.exit_code == 7 and "an export attaches to one of" in empty.stderr, empty
    assert exported(shop_live) == []  # checked before the notebook ran
    assert len(observations(shop_server, "shop/daily_sales")) == before


def test_job_attaches_to_the_partition_and_to_its_unpartitioned_assets_as_a_whole(
    shop_live: Path, shop_server: DagsterServer
) -> None:
    result = export(shop_live, "--job", "daily_rollup_job", "--partition", "2024-01-05", "--json")
    assert result.exit_code == 0, result
    attached = {a["asset"]: a for a in json.loads(result.stdout)["attached"]}
    assert {k: a["partition"] for k, a in attached.items()} == {
        "shop/daily_sales": "2024-01-05",
        "shop/latest_daily_sales": None,
    }
    (daily,) = with_export_id(
        shop_server, "shop/daily_sales", attached["shop/daily_sales"]["export_id"]
    )
    assert daily["partition"] == "2024-01-05"
    (latest,) = with_export_id(
        shop_server, "shop/latest_daily_sales", attached["shop/latest_daily_sales"]["export_id"]
    )
    assert latest["partition"] is None


def test_multi_dimensional_and_all_partitions(shop_live: Path, shop_server: DagsterServer) -> None:
    multi = export(
        shop_live,
        "--attach",
        "asset://shop/regional_daily_sales",
        "--partition",
        "region=eu,date=2024-01-05",
        "--json",
    )
    assert multi.exit_code == 0, multi
    (one,) = json.loads(multi.stdout)["attached"]
    assert one["partition"] == "2024-01-05|eu"
    (event,) = with_export_id(shop_server, "shop/regional_daily_sales", one["export_id"])
    assert event["partition"] == "2024-01-05|eu"

    every = export(shop_live, "--attach", "asset://shop/regional_orders", "--all-partitions")
    assert every.exit_code == 0, every
    assert "attached to shop/regional_orders 3 partitions (eu .. apac)" in every.stdout
    for region in ("eu", "us", "apac"):
        latest = observations(shop_server, "shop/regional_orders", region)[0]
        assert latest["partition"] == region
        assert latest["entries"]["exploration"]["text"].endswith("orders.html.gz")


def _ensure_a_run(server: DagsterServer, cwd: Path) -> None:
    """The proof that DAGSTER_HOME is the webserver's instance is a run both hold."""
    launched = run_daglab(
        "run", "--job", "daily_sales_job", "--partition", "2024-01-02", cwd=cwd, timeout=300
    )
    assert launched.exit_code == 0, launched


def test_one_observation_per_attachment_typed_or_not(
    shop_live: Path, shop_server: DagsterServer, tmp_path: Path
) -> None:
    _ensure_a_run(shop_server, shop_live)
    key = "shop/weekly_sales"
    before = len(observations(shop_server, key))
    same = export(
        shop_live,
        "--attach",
        f"asset://{key}:2024-01-14",
        "--json",
        env={"DAGSTER_HOME": str(shop_server.dagster_home)},
    )
    assert same.exit_code == 0, same
    (typed,) = json.loads(same.stdout)["attached"]
    assert typed["typed"] is True, typed
    assert len(observations(shop_server, key)) == before + 1
    (event,) = with_export_id(shop_server, key, typed["export_id"])
    assert event["partition"] == "2024-01-14"
    assert event["entries"]["exploration"]["__typename"] == "PathMetadataEntry"

    # another DAGSTER_HOME, without dagster.yaml: text entries through the webserver, and
    # Dagster's warning about the missing file is in daglab's log, not on the terminal
    elsewhere = tmp_path / "another_home"
    elsewhere.mkdir()
    other = export(
        shop_live, "--attach", f"asset://{key}:2024-01-14", env={"DAGSTER_HOME": str(elsewhere)}
    )
    assert other.exit_code == 0, other
    assert "is not the webserver's instance" in other.stdout
    assert "dagster.yaml" not in other.stderr and "Warning" not in other.stderr, other.stderr
    assert len(observations(shop_server, key)) == before + 2
    newest = observations(shop_server, key, "2024-01-14")[0]
    assert newest["entries"]["exploration"]["__typename"] == "TextMetadataEntry"
    log = (shop_live / ".daglab" / "daglab.log").read_text()
    assert "No dagster instance configuration file (dagster.yaml) found" in log


def test_a_terminal_is_asked_which_partition(shop_live: Path, shop_server: DagsterServer) -> None:
    """A real pseudo-terminal: the prompt offers the keys and takes the answer."""
    exe = Path(sys.executable).parent / "daglab"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"COLUMNS": "200"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: daglab on the terminal
        os.chdir(shop_live)
        os.execve(
            str(exe),
            [str(exe), "export", "notebooks/orders.py", "--attach", "asset://shop/regional_orders"],
            env,
        )
    output = b""
    answered = False
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Attach to which partition" in output:
                os.write(fd, b"us\n")
                answered = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Its keys: eu, us, apac" in text
    assert "attached to shop/regional_orders partition us" in text
    latest = observations(shop_server, "shop/regional_orders", "us")[0]
    assert latest["partition"] == "us"


def test_the_helper_refuses_a_partitioned_asset_without_a_partition(
    shop_live: Path, shop_server: DagsterServer
) -> None:
    code = (
        "import sys\n"
        "from daglab._errors import ValidationError\n"
        "from daglab.helpers import attach_metadata\n"
        "try:\n"
        "    attach_metadata('shop/monthly_sales', {'rows': 1})\n"
        "except ValidationError as exc:\n"
        "    print('refused', int(exc.exit_code), exc.message)\n"
        "done = attach_metadata('shop/monthly_sales', {'rows': 1}, partition='2024-02-01')\n"
        "print(done.partition)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=shop_live, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "refused 7 asset 'shop/monthly_sales' is partitioned" in done.stdout
    assert done.stdout.strip().endswith("2024-02-01")


def test_the_notebook_export_button_attaches_to_the_picked_partition(
    shop_live: Path, shop_server: DagsterServer
) -> None:
    """What the Export button of a partitioned target's notebook calls (``views.export_and_attach``
    with the picker's value), run from the project as the kernel runs it."""
    code = (
        "from pathlib import Path\n"
        "from daglab import helpers\n"
        "from daglab._notebooks import views\n"
        "out = views.export_and_attach(Path('notebooks/orders.py').resolve(),"
        " helpers.attach_metadata, asset='shop/regional_orders', conn=helpers.connect(),"
        " partition='eu')\n"
        "assert out.error is None, out.error\n"
        "print(out.attached.partition, out.attached.export_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=shop_live, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    partition, export_id = done.stdout.split()[-2:]
    assert partition == "eu"
    landed = observations(shop_server, "shop/regional_orders", "eu")
    assert any(
        (o["entries"].get("exploration_export_id") or {}).get("text") == export_id for o in landed
    ), landed
