"""``daglab scaffold`` on a project it did not generate: a package named ``dagster_*``, several
code locations (one that fails to load), assets in other files than the Definitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_daglab
from tests.integration.test_scaffold import marimo_check

OFFLINE = {"DAGLAB_DAGSTER__PORT": "9", "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real") / "shop"
    shutil.copytree(FIXTURES / "multi_location_project", root)
    (root / ".git").mkdir()
    done = run_daglab("init", cwd=root, env=OFFLINE)
    assert done.exit_code == 0, done
    return root


@pytest.mark.parametrize(
    ("asset", "module", "notebook"),
    [
        # a package whose name starts with dagster_ is the project's own code
        ("shop/customers", "dagster_shop.assets.upstream", "assets/shop/customers_explore.py"),
        # an asset of the second code location (a python_file)
        (
            "analytics/marts/revenue_total",
            "pipelines",
            "assets/analytics/marts/revenue_total_explore.py",
        ),
    ],
)
def test_scaffold_finds_code_in_any_location_with_the_webserver_down(
    shop: Path, asset: str, module: str, notebook: str
) -> None:
    done = run_daglab("scaffold", "--asset", asset, cwd=shop, env=OFFLINE)
    assert done.exit_code == 0, done
    assert "checked in the code" in done.output
    path = shop / "src" / "dagster_shop" / "notebooks" / notebook
    text = path.read_text()
    assert f"from {module} import {asset.rsplit('/', 1)[-1]} as target_definition" in text
    # the in-process cell runs the target from the project's Definitions, not from its module
    assert '"module": None,' in text
    marimo_check(path)
    from daglab._inprocess import run_inprocess

    result = run_inprocess(asset, project=path)  # what the cell does, from the notebook's folder
    assert result.value is not None, result.error
