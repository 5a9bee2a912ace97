"""In-process runs against the real sample project and small generated ones (no server needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._errors import ExitCode, RunFailedError, ValidationError
from daglab._inprocess import InProcessResult, load_repository, run_inprocess
from daglab._project import find_project
from tests.conftest import FIXTURES, REPO_ROOT, make_dg_project

SAMPLE = FIXTURES / "sample_dagster_project"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample project, shared by the tests that do not edit it."""
    return Path(shutil.copytree(SAMPLE, tmp_path_factory.mktemp("shared") / "sample"))


@pytest.fixture
def own_sample(tmp_path: Path) -> Path:
    """A copy of the sample project this test may edit."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))


def test_asset_runs_with_its_upstream_assets(sample: Path) -> None:
    before = list(sys.path)
    result = run_inprocess("daily_summary", project=sample)
    assert result.success, result.error
    assert result.kind == "asset" and result.target == "daily_summary"
    assert result.selection == ("daily_summary", "orders/cleaned_orders", "orders/raw_orders")
    assert result.materialized == ("orders/raw_orders", "orders/cleaned_orders", "daily_summary")
    assert dict(result.steps) == {
        "orders__raw_orders": "success",
        "orders__cleaned_orders": "success",
        "daily_summary": "success",
    }
    assert result.value == {"order_count": 5, "total_amount": 150}
    assert result.outputs == {"daily_summary": "{'order_count': 5, 'total_amount': 150}"}
    assert result.module == "definitions.py"
    assert result.duration_s > 0 and result.load_duration_s > 0
    assert result.rss_before_bytes and result.rss_after_bytes
    assert result.rss_peak_delta is not None and result.rss_peak_delta >= 0
    assert result.recorded_in_dagster is False
    data = json.loads(json.dumps(result.to_dict()))
    assert data["recorded_in_dagster"] is False
    assert data["steps"][0] == {"step_key": "orders__raw_orders", "status": "success"}
    assert "values" not in data
    assert sys.path == before


def test_asset_by_path_and_without_upstream(sample: Path) -> None:
    result = run_inprocess("orders/cleaned_orders", kind="asset", project=sample)
    assert result.success and result.target == "orders/cleaned_orders"
    assert len(result.value) == 5

    # Alone, the asset has nothing to load its input from: the run fails at that step.
    alone = run_inprocess("daily_summary", project=sample, upstream=False)
    assert not alone.success
    assert alone.selection == ("daily_summary",)
    assert alone.failed_step == "daily_summary"
    assert alone.error is not None and alone.error.startswith("daily_summary: ")


def test_job_with_run_config(sample: Path) -> None:
    config = {"ops": {"multiply": {"config": {"multiplier": 2, "label": "t"}}}}
    result = run_inprocess(
        "configurable_job", project=sample, run_config=config, tags={"team": "data"}
    )
    assert result.success and result.kind == "job"
    assert result.values["multiply"] == 42
    assert result.outputs == {"multiply": "42", "report": "None"}
    assert result.steps == (("multiply", "success"), ("report", "success"))
    assert result.value is None  # only asset runs have one value


def test_asset_job_outputs_are_its_assets(sample: Path) -> None:
    result = run_inprocess("quick_asset_job", project=sample, load_values=False)
    assert result.success
    assert set(result.materialized) == {
        "orders/raw_orders",
        "orders/cleaned_orders",
        "daily_summary",
    }
    assert result.outputs == {} and result.values == {}


def test_missing_config_is_a_validation_error(sample: Path) -> None:
    """Dagster refuses to start the run, so nothing ran: a ValidationError, not a failed run."""
    with pytest.raises(ValidationError) as caught:
        run_inprocess("configurable_job", project=sample)
    assert "Missing required config entry" in caught.value.message
    assert "multiplier" in caught.value.message
    assert caught.value.exit_code == ExitCode.VALIDATION


def test_failing_job(sample: Path) -> None:
    result = run_inprocess("failing_job", project=sample)
    assert not result.success
    assert result.failed_step == "failing_op"
    assert result.error == "failing_op: ValueError: sample failure for daglab tests"
    assert result.steps == (("failing_op", "failure"),)

    with pytest.raises(RunFailedError) as caught:
        run_inprocess("failing_job", project=sample, raise_on_error=True)
    assert "sample failure for daglab tests" in caught.value.message
    assert caught.value.exit_code == ExitCode.RUN_FAILED
    assert caught.value.details["result"]["failed_step"] == "failing_op"


def test_partitioned_asset_and_job(sample: Path) -> None:
    result = run_inprocess("daily_orders", project=sample, partition_key="2024-01-05")
    assert result.success and result.target == "orders/daily_orders"
    assert result.value == {"date": "2024-01-05", "count": 10}
    assert result.partition_key == "2024-01-05"

    job = run_inprocess("daily_orders_job", project=sample, partition_key="2024-01-31")
    assert job.success and job.values["orders/daily_orders"]["date"] == "2024-01-31"

    with pytest.raises(ValidationError) as missing:
        run_inprocess("daily_orders", project=sample)
    assert "31 keys: 2024-01-01 .. 2024-01-31" in missing.value.message
    with pytest.raises(ValidationError, match="has no partition '2030-01-01'"):
        run_inprocess("daily_orders", project=sample, partition_key="2030-01-01")
    with pytest.raises(ValidationError, match="not partitioned"):
        run_inprocess("daily_summary", project=sample, partition_key="2024-01-05")


def test_unknown_and_wrong_kind_targets(sample: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        run_inprocess("daily_summry", project=sample)
    assert "did you mean daily_summary" in caught.value.message
    assert "daglab discover" in caught.value.remediation
    assert caught.value.exit_code == ExitCode.VALIDATION

    with pytest.raises(ValidationError, match="did you mean quick_asset_job"):
        run_inprocess("quick_job", kind="job", project=sample)
    with pytest.raises(ValidationError, match="no asset named 'quick_asset_job'"):
        run_inprocess("quick_asset_job", kind="asset", project=sample)
    with pytest.raises(ValidationError, match="no job named 'daily_summary'"):
        run_inprocess("daily_summary", kind="job", project=sample)


def test_edits_are_picked_up_between_calls(own_sample: Path) -> None:
    first = run_inprocess("daily_summary", project=own_sample)
    assert first.value == {"order_count": 5, "total_amount": 150}

    definitions = own_sample / "definitions.py"
    text = definitions.read_text()
    edited = text.replace('"amount": 10 * i}', '"amount": 1000 * i}')
    assert edited != text
    definitions.write_text(edited)

    second = run_inprocess("daily_summary", project=own_sample)
    assert second.value == {"order_count": 5, "total_amount": 15000}


def test_dagster_home_is_never_touched(
    own_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    files_before = sorted(p for p in own_sample.rglob("*") if "__pycache__" not in p.parts)

    assert run_inprocess("daily_summary", project=own_sample).success
    run_config = {"ops": {"multiply": {"config": {"multiplier": 1}}}}
    assert run_inprocess("configurable_job", project=own_sample, run_config=run_config).success
    assert not run_inprocess("failing_job", project=own_sample).success

    assert list(home.iterdir()) == []
    files_after = sorted(p for p in own_sample.rglob("*") if "__pycache__" not in p.parts)
    assert files_after == files_before  # no storage/ or history left in the project either


def test_dg_project_with_definitions_function(git_project: Path) -> None:
    """`@dg.definitions` + load_from_defs_folder, as `create-dagster project` lays it out."""
    make_dg_project(git_project, "shop")
    things = git_project / "src" / "shop" / "defs" / "things.py"
    things.write_text("import dagster as dg\n\n\n@dg.asset\ndef thing() -> int:\n    return 1\n")

    result = run_inprocess("thing", project=git_project / "src" / "shop")
    assert result.success and result.value == 1
    assert result.module == "shop.definitions"

    things.write_text("import dagster as dg\n\n\n@dg.asset\ndef thing() -> int:\n    return 222\n")
    assert run_inprocess("thing", project=git_project).value == 222

    # A file of bare assets (no Definitions) is wrapped in one; it imports as shop.defs.things.
    direct = run_inprocess("thing", project=git_project, module="src/shop/defs/things.py")
    assert direct.value == 222 and direct.module == "src/shop/defs/things.py"


def test_same_package_name_in_two_projects(tmp_path: Path) -> None:
    """A kernel that switches projects gets the code of the project it asks for."""
    values = []
    for index in range(2):
        root = tmp_path / f"p{index}"
        root.mkdir()
        make_dg_project(root, "shop")
        (root / "src" / "shop" / "defs" / "things.py").write_text(
            f"import dagster as dg\n\n\n@dg.asset\ndef thing() -> int:\n    return {index}\n"
        )
        values.append(run_inprocess("thing", project=root).value)
    assert values == [0, 1]


def test_module_override_and_last_part_matching(git_project: Path) -> None:
    (git_project / "two.py").write_text(
        "import dagster as dg\n\n\n"
        "@dg.asset(key=['a', 'x'])\ndef ax() -> str:\n    return 'a'\n\n\n"
        "@dg.asset(key=['b', 'x'])\ndef bx() -> str:\n    return 'b'\n\n\n"
        "@dg.asset(key=['b', 'only'])\ndef only() -> str:\n    return 'only'\n"
    )
    (git_project / "definitions.py").write_text("VALUE = 1\n")

    assert run_inprocess("only", project=git_project, module="two.py").target == "b/only"
    assert run_inprocess("a/x", project=git_project, module="two.py").value == "a"
    with pytest.raises(ValidationError) as caught:
        run_inprocess("x", project=git_project, module="two.py")
    assert "matches 2 assets: a/x, b/x" in caught.value.message
    assert "full asset key" in caught.value.remediation

    # definitions.py is found without module=, but defines nothing Dagster can run.
    with pytest.raises(ValidationError, match="no Definitions, assets or jobs found"):
        run_inprocess("x", project=git_project)


def test_import_problems_are_validation_errors(git_project: Path) -> None:
    (git_project / "broken.py").write_text("import not_a_real_module_daglab\n")
    with pytest.raises(ValidationError) as caught:
        run_inprocess("x", project=git_project, module="broken.py")
    assert "No module named 'not_a_real_module_daglab'" in caught.value.message
    assert "module=" in caught.value.remediation
    assert "installed in this environment" in caught.value.remediation

    with pytest.raises(ValidationError, match=r"cannot import nowhere_pkg\.definitions"):
        run_inprocess("x", project=git_project, module="nowhere_pkg.definitions")
    with pytest.raises(ValidationError, match=r"missing\.py not found"):
        run_inprocess("x", project=git_project, module="missing.py")

    (git_project / "raises.py").write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(ValidationError, match="raised RuntimeError: boom at import"):
        run_inprocess("x", project=git_project, module="raises.py")

    # Nothing to go on: no markers, no definitions.py, no module=.
    with pytest.raises(ValidationError, match="no Dagster code found"):
        run_inprocess("x", project=git_project)


def test_two_definitions_need_an_attribute(git_project: Path) -> None:
    (git_project / "many.py").write_text(
        "import dagster as dg\n\n\n@dg.asset\ndef one() -> int:\n    return 1\n\n\n"
        "first = dg.Definitions(assets=[one])\nsecond = dg.Definitions(assets=[one])\n"
    )
    with pytest.raises(ValidationError) as caught:
        run_inprocess("one", project=git_project, module="many.py")
    assert "first, second" in caught.value.message
    assert "many.py:NAME" in caught.value.remediation
    assert run_inprocess("one", project=git_project, module="many.py:second").value == 1


def test_load_repository_and_project_as_a_file(sample: Path) -> None:
    repository, module_name = load_repository(find_project(sample))
    assert module_name == "definitions"
    assert {"configurable_job", "failing_job", "quick_asset_job"} <= set(repository.job_names)

    # A notebook passes its own file or folder; the project is found from there.
    result = run_inprocess("orders/raw_orders", project=sample / "definitions.py")
    assert result.success and len(result.value) == 5


def test_a_file_named_like_a_library_module_does_not_shadow_it(git_project: Path) -> None:
    (git_project / "json.py").write_text(
        "import dagster as dg\n\n\n@dg.asset\ndef thing() -> int:\n    return 7\n"
    )
    assert run_inprocess("thing", project=git_project, module="json.py").value == 7
    assert json.loads("[1]") == [1]
    assert sys.modules["json"] is json


def test_result_is_frozen(sample: Path) -> None:
    result = run_inprocess("orders/raw_orders", project=sample)
    assert isinstance(result, InProcessResult)
    with pytest.raises(AttributeError):
        result.success = False  # type: ignore[misc]


def test_importing_the_modules_loads_neither_dagster_nor_psutil() -> None:
    code = (
        "import sys, daglab._inprocess, daglab._performance\n"
        "print(sorted(m for m in ('dagster', 'psutil', 'yaml') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        timeout=60,
    )
    assert proc.stdout.strip() == "[]"
