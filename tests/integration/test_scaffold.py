"""``daglab scaffold`` against the real webserver, and against the code when it is down."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.dagster_server import DagsterServer

MARIMO = str(Path(sys.executable).parent / "marimo")


def copy_sample(root: Path, url: str) -> Path:
    shutil.copytree(FIXTURES / "sample_dagster_project", root)
    (root / "daglab.yaml").write_text(f"dagster:\n  url: {url}\n  graphql: {{max_retries: 0}}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for key, value in (("user.name", "Test Author"), ("user.email", "t@example.com")):
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=root, check=True)
    return root


@pytest.fixture
def live(tmp_path: Path, dagster_server: DagsterServer) -> Path:
    return copy_sample(tmp_path / "live", dagster_server.url)


@pytest.fixture
def offline(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "offline", "http://127.0.0.1:9")


def marimo_check(path: Path) -> None:
    done = subprocess.run([MARIMO, "check", "--strict", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.dagster
def test_asset_notebook_against_the_live_server(cli, live: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("scaffold", "--asset", "daily_summary", "--json", cwd=live)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    path = Path(data["path"])
    assert path == live / "notebooks" / "assets" / "daily_summary_explore.py"
    assert data["checked_against"] == "server"
    assert data["import"] == "from definitions import daily_summary"
    text = path.read_text()
    assert "from definitions import daily_summary as target_definition" in text
    assert "# 9. Export" in text and "# 7. In-process" in text
    marimo_check(path)
    manifest = json.loads((live / ".daglab" / "manifest.json").read_text())
    assert manifest["last_notebook"] == "notebooks/assets/daily_summary_explore.py"
    assert "notebooks/assets/daily_summary_explore.py" in manifest["files"]

    html = live / "out.html"
    done = subprocess.run(
        [MARIMO, "export", "html", str(path), "-o", str(html)],
        capture_output=True,
        text=True,
        cwd=live,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = html.read_text()
    assert "Connected to Dagster" in page
    assert "Run config is valid" in page
    assert "Cannot import" not in page

    again = cli("scaffold", "--asset", "daily_summary", cwd=live)
    assert again.exit_code == 8 and "--force" in again.output
    assert path.read_text() == text
    forced = cli(
        "scaffold", "--asset", "daily_summary", "--force", "--title", "Daily", "--json", cwd=live
    )
    assert forced.exit_code == 0 and json.loads(forced.stdout)["action"] == "overwritten"
    assert 'NOTEBOOK_TITLE = "Daily"' in path.read_text()


@pytest.mark.dagster
def test_job_notebook_config_validation(cli, live: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invalid = cli("scaffold", "--job", "configurable_job", "--validate-config", cwd=live)
    assert invalid.exit_code == 7, invalid
    assert "multiplier" in invalid.output
    assert not (live / "notebooks" / "jobs").exists()

    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  multiply:\n    config:\n      multiplier: 6\n")
    ok = cli(
        "scaffold",
        "--job",
        "configurable_job",
        "--validate-config",
        "--run-config",
        str(config),
        "--template-vars",
        "owner=data-team",
        "--git-commit",
        "--json",
        cwd=live,
    )
    assert ok.exit_code == 0, ok
    data = json.loads(ok.stdout)
    assert data["config_valid"] is True and data["commit"]
    text = Path(data["path"]).read_text()
    assert "multiplier: 6" in text and '"owner": "data-team"' in text
    log = subprocess.run(
        ["git", "show", "--name-only", "--format=%s", "HEAD"],
        cwd=live,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert log[0].startswith("Add paired notebook notebooks/jobs/configurable_job_explore.py")
    assert [line for line in log[1:] if line] == ["notebooks/jobs/configurable_job_explore.py"]

    typo = cli("scaffold", "--job", "configurble_job", cwd=live)
    assert typo.exit_code == 7 and "did you mean configurable_job" in typo.output


@pytest.mark.dagster
def test_selection_and_options(cli, live: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "scaffold",
        "--from-selection",
        "orders/*",
        "--template",
        "ml",
        "--seed-data",
        "--json",
        cwd=live,
    )
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    path = Path(data["path"])
    assert path.name == "orders_all_explore.py" and path.parent.name == "selections"
    text = path.read_text()
    assert "SAMPLE_DATA" in text and "Runs compared across configs" in text
    assert "# 7. In-process" not in text  # in-process takes one asset or job
    marimo_check(path)

    lean = cli(
        "scaffold",
        "--asset",
        "orders/raw_orders",
        "--template",
        "minimal",
        "--no-inprocess",
        "--no-attach",
        "--filename",
        "custom/raw.py",
        "--json",
        cwd=live,
    )
    assert lean.exit_code == 0, lean
    lean_path = Path(json.loads(lean.stdout)["path"])
    assert lean_path == live / "notebooks" / "custom" / "raw.py"
    assert "# 7. In-process" not in lean_path.read_text()
    marimo_check(lean_path)


@pytest.mark.parametrize("name", ["../escape.py", "/tmp/abs_explore.py", "a/../../b.py"])
def test_names_that_leave_the_notebooks_folder_are_refused(cli, offline: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "scaffold", "--asset", "daily_summary", "--no-inprocess", "--filename", name, cwd=offline
    )
    assert result.exit_code == 7, result
    assert "notebooks folder" in result.output
    assert not (offline / "notebooks").exists()


def test_offline_checks_the_code(cli, offline: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("scaffold", "--asset", "orders/cleaned_orders", "--json", cwd=offline)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert data["checked_against"] == "code"
    assert data["import"] == "from definitions import cleaned_orders"
    marimo_check(Path(data["path"]))

    typo = cli("scaffold", "--asset", "cleand_orders", cwd=offline)
    assert typo.exit_code == 7 and "did you mean orders/cleaned_orders" in typo.output
    needs_server = cli("scaffold", "--job", "configurable_job", "--validate-config", cwd=offline)
    assert needs_server.exit_code == 5 and "webserver" in needs_server.output
    assert not (offline / "notebooks" / "jobs").exists()


def test_an_import_that_cannot_resolve_fails_helpfully(cli, offline: Path) -> None:  # type: ignore[no-untyped-def]
    (offline / "other.py").write_text("VALUE = 1\n")
    result = cli("scaffold", "--asset", "daily_summary", "--module", "other.py", cwd=offline)
    assert result.exit_code == 7, result
    assert "--no-inprocess" in result.output
    missing = cli("scaffold", "--asset", "daily_summary", "--module", "nope.py", cwd=offline)
    assert missing.exit_code == 7 and "no such Python file" in missing.output
    assert not (offline / "notebooks").exists()
    given = cli(
        "scaffold", "--asset", "daily_summary", "--module", "definitions.py", "--json", cwd=offline
    )
    assert given.exit_code == 0, given
    assert json.loads(given.stdout)["import"] == "from definitions import daily_summary"


def test_usage_errors(cli, offline: Path) -> None:  # type: ignore[no-untyped-def]
    none = cli("scaffold", cwd=offline)
    assert none.exit_code == 2 and "exactly one of" in none.output
    both = cli("scaffold", "--job", "a", "--asset", "b", cwd=offline)
    assert both.exit_code == 2
    bad_var = cli("scaffold", "--asset", "x", "--template-vars", "novalue", cwd=offline)
    assert bad_var.exit_code == 2 and "KEY=VALUE" in bad_var.output
    bad_template = cli("scaffold", "--asset", "daily_summary", "--template", "fancy", cwd=offline)
    assert bad_template.exit_code == 7 and "default, minimal, ml" in bad_template.output


def test_outside_a_project_is_exit_3_with_the_remedy(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("scaffold", "--asset", "raw_orders", cwd=tmp_path)
    assert result.exit_code == 3, result
    assert "daglab init" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_overlong_file_name_is_exit_7_naming_it(cli, offline: Path) -> None:  # type: ignore[no-untyped-def]
    name = "n" * 300 + ".py"
    result = cli("scaffold", "--asset", "raw_orders", "--filename", name, cwd=offline)
    assert result.exit_code == 7, result
    assert "303 bytes" in result.output and "nnnnnnnn" in result.output


def test_concurrent_scaffolds_lose_no_manifest_entry(offline: Path) -> None:
    """Eight real ``daglab scaffold`` processes at once: the manifest records all eight."""
    exe = Path(sys.executable).parent / "daglab"
    assets = ["raw_orders", "orders/cleaned_orders", "daily_summary", "raw_orders"] * 2
    procs = [
        subprocess.Popen(
            [str(exe), "scaffold", "--asset", asset, "--no-inprocess", "--filename", f"nb_{i}.py"],
            cwd=offline,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, asset in enumerate(assets)
    ]
    outcomes = [(proc.wait(timeout=300), *proc.communicate()) for proc in procs]
    assert [code for code, _, _ in outcomes] == [0] * 8, outcomes
    manifest = json.loads((offline / ".daglab" / "manifest.json").read_text())
    recorded = sorted(rel for rel, info in manifest["files"].items() if info["kind"] == "notebook")
    assert recorded == sorted(f"notebooks/nb_{i}.py" for i in range(8))
    assert manifest["last_notebook"] in recorded
