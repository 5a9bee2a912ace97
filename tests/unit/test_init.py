"""`daglab init` in existing projects and with --bootstrap (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from daglab._config import load_config
from tests.conftest import Result, make_dg_project


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
        if ".git" not in p.parts and not p.name.startswith("daglab.log")
    }


def test_existing_project(cli, git_project: Path) -> None:
    make_dg_project(git_project, "shop")
    result: Result = cli("init", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert data["mode"] == "existing"
    assert data["kind"] == "dg-project"
    assert (git_project / ".daglab" / "cache").is_dir()
    assert (git_project / ".daglab" / "templates").is_dir()
    notebooks = git_project / "src" / "shop" / "notebooks"
    assert (notebooks / "examples").is_dir()
    assert "shop" in (notebooks / "README.md").read_text()
    written = (git_project / "daglab.yaml").read_text()
    config = yaml.safe_load(written)
    assert config["notebooks_dir"] == "src/shop/notebooks"
    assert "repository_location_name" not in config["dagster"]  # retired: nothing read it
    assert '  #   "proj"\n' in written  # the location as `dg dev` serves it, as a comment
    assert data["locations"] == ["proj"] and data["location_name"] == "proj"
    assert config["dagster"]["repository_name"] == "__repository__"
    assert config["dagster"]["port"] == 3000 and config["marimo"]["port"] == 3010
    load_config(start=git_project)  # the file it wrote is valid
    ignored = (git_project / ".gitignore").read_text().splitlines()
    for entry in (
        ".daglab/*",
        "!.daglab/templates/",
        "src/shop/notebooks/**/*.html",
        "src/shop/notebooks/**/.ipynb_checkpoints/",
        "__marimo__/",
    ):
        assert entry in ignored
    assert any("dg dev" in step for step in data["next_steps"])
    log = (git_project / ".daglab" / "daglab.log").read_text()
    assert "init (existing)" in log and "daglab.yaml" in log


def test_second_run_changes_nothing(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    assert cli("init", cwd=git_project).exit_code == 0
    before = snapshot(git_project)
    result: Result = cli("init", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["changed"] is False
    assert snapshot(git_project) == before


def test_user_edits_survive_without_force(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    cli("init", cwd=git_project)
    config = git_project / "daglab.yaml"
    config.write_text(config.read_text().replace("port: 3000", "port: 3555"))
    result: Result = cli("init", "--ports", "dagster=4000", "--json", cwd=git_project)
    actions = {f["path"]: f["action"] for f in json.loads(result.stdout)["files"]}
    assert actions["daglab.yaml"] == "skipped"
    assert "port: 3555" in config.read_text()
    result = cli(
        "init", "--ports", "dagster=4000,marimo=4010", "--force", "--json", cwd=git_project
    )
    actions = {f["path"]: f["action"] for f in json.loads(result.stdout)["files"]}
    assert actions["daglab.yaml"] == "overwritten"
    loaded = load_config(start=git_project).config
    assert (loaded.dagster.port, loaded.marimo.port) == (4000, 4010)


def test_existing_gitignore_lines_are_kept(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    (git_project / ".gitignore").write_text("secret.env\n.daglab/cache/")
    cli("init", cwd=git_project)
    lines = (git_project / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["secret.env", ".daglab/cache/"]
    assert lines.count(".daglab/cache/") == 1


def test_notebooks_dir_flag(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    result: Result = cli("init", "--notebooks-dir", "research/nb", "--no-examples", cwd=git_project)
    assert result.exit_code == 0, result
    assert (git_project / "research" / "nb").is_dir()
    assert not (git_project / "research" / "nb" / "examples").exists()
    assert load_config(start=git_project).notebooks_dir == git_project / "research" / "nb"


def test_notebooks_dir_outside_the_project_is_refused(
    cli, git_project: Path, tmp_path: Path
) -> None:
    make_dg_project(git_project)
    before = snapshot(tmp_path)
    result: Result = cli("init", "--notebooks-dir", "../elsewhere", cwd=git_project)
    assert result.exit_code == 7
    assert "outside the project" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("ports", ["dagster", "dagster=abc", "web=3000", "dagster=70000"])
def test_bad_ports_are_usage_errors(cli, git_project: Path, ports: str) -> None:
    make_dg_project(git_project)
    result: Result = cli("init", "--ports", ports, cwd=git_project)
    assert result.exit_code == 2
    assert "dagster=3001" in result.stderr
    assert not (git_project / "daglab.yaml").exists()


def test_not_a_dagster_project(cli, git_project: Path) -> None:
    result: Result = cli("init", cwd=git_project)
    assert result.exit_code == 3
    assert "--bootstrap" in result.stderr
    assert list(git_project.iterdir()) == [git_project / ".git"]


@pytest.mark.parametrize(("runner", "name"), [("just", "justfile"), ("make", "Makefile")])
def test_task_runner_targets(cli, git_project: Path, runner: str, name: str) -> None:
    make_dg_project(git_project)
    (git_project / name).write_text("build:\n\techo build\n")
    assert cli("init", "--tasks", runner, cwd=git_project).exit_code == 0
    text = (git_project / name).read_text()
    assert text.startswith("build:\n\techo build\n")
    assert "daglab doctor" in text and "daglab clean" in text
    cli("init", "--tasks", runner, cwd=git_project)
    assert (git_project / name).read_text() == text


def test_task_target_clash(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    (git_project / "Makefile").write_text("clean:\n\trm -rf build\n")
    result: Result = cli("init", "--tasks", "make", cwd=git_project)
    assert result.exit_code == 8
    assert (git_project / "Makefile").read_text() == "clean:\n\trm -rf build\n"


def test_bootstrap(cli, git_project: Path) -> None:
    result: Result = cli(
        "init", "--bootstrap", "Fresh Shop", "--template", "minimal", "--json", cwd=git_project
    )
    assert result.exit_code == 0, result
    root = git_project / "Fresh Shop"
    data = json.loads(result.stdout)
    assert data["mode"] == "bootstrap" and data["package"] == "fresh_shop"
    assert (root / "src" / "fresh_shop" / "definitions.py").is_file()
    assert (root / "src" / "fresh_shop" / "notebooks" / "examples").is_dir()
    assert not (root / "dagster").exists()
    config = load_config(start=root)
    assert config.warnings == ()
    assert data["locations"] == list(config.project.locations) and data["locations"]
    assert ".daglab/*" in (root / ".gitignore").read_text().splitlines()
    before = snapshot(root)
    again: Result = cli(
        "init", "--bootstrap", "Fresh Shop", "--template", "minimal", "--json", cwd=git_project
    )
    assert again.exit_code == 0, again
    assert json.loads(again.stdout)["changed"] is False
    assert snapshot(root) == before


def test_bootstrap_over_a_foreign_project_is_a_conflict(cli, git_project: Path) -> None:
    make_dg_project(git_project / "theirs")
    before = snapshot(git_project)
    result: Result = cli("init", "--bootstrap", "theirs", cwd=git_project)
    assert result.exit_code == 8
    assert "without --bootstrap" in result.stderr
    assert snapshot(git_project) == before


def test_bootstrap_refuses_a_dagster_package(cli, git_project: Path) -> None:
    result: Result = cli("init", "--bootstrap", "dagster", cwd=git_project)
    assert result.exit_code == 7
    assert not (git_project / "dagster").exists()
    result = cli("init", "--bootstrap", "proj", "--package-name", "dagster", cwd=git_project)
    assert result.exit_code == 7


def test_bad_template(cli, git_project: Path) -> None:
    result: Result = cli("init", "--bootstrap", "x", "--template", "huge", cwd=git_project)
    assert result.exit_code == 2
    assert not (git_project / "x").exists()


def test_force_restores_edited_template_files(cli, git_project: Path) -> None:
    cli("init", "--bootstrap", "p", "--template", "minimal", cwd=git_project)
    starter = git_project / "p" / "src" / "p" / "defs" / "starter.py"
    original = starter.read_text()
    starter.write_text("# mine\n")
    cli("init", "--bootstrap", "p", "--template", "minimal", cwd=git_project)
    assert starter.read_text() == "# mine\n"
    cli("init", "--bootstrap", "p", "--template", "minimal", "--force", cwd=git_project)
    assert starter.read_text() == original


def test_a_bootstrap_failing_half_way_leaves_only_what_was_there(cli, git_project: Path) -> None:
    """A file where the notebooks folder must go fails the run after the template is written:
    everything this run made goes, everything that was there stays."""
    root = git_project / "shop"
    (root / "src" / "shop").mkdir(parents=True)
    (root / "notes.txt").write_text("mine")
    (root / "src" / "shop" / "notebooks").write_text("a file, not a folder")
    before = snapshot(root)
    result: Result = cli("init", "--bootstrap", "shop", "--template", "minimal", cwd=git_project)
    assert result.exit_code in (7, 8), result
    assert snapshot(root) == before
    assert not (root / ".daglab").exists()


def test_init_failing_half_way_restores_changed_files(cli, git_project: Path) -> None:
    make_dg_project(git_project, "shop")
    gitignore = git_project / ".gitignore"
    gitignore.write_text("*.pyc\n")
    notebooks = git_project / "src" / "shop" / "notebooks"
    notebooks.mkdir()
    (notebooks / "keep.py").write_text("import marimo\n")
    # the examples come last, after .gitignore, daglab.yaml and the manifest were written
    (notebooks / "examples").write_text("a file where init puts a folder")
    before = snapshot(git_project)
    result: Result = cli("init", "--notebooks-dir", "src/shop/notebooks", cwd=git_project)
    assert result.exit_code in (7, 8), result
    assert snapshot(git_project) == before
    assert gitignore.read_text() == "*.pyc\n"


def test_every_workspace_location_is_recorded_by_the_name_dagster_serves(
    cli, git_project: Path
) -> None:
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    (git_project / "src" / "dagster_shop").mkdir(parents=True)
    (git_project / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_module: {module_name: dagster_shop.definitions, working_directory: src}\n"
        "  - python_file: {relative_path: analytics/pipelines.py}\n"
        "  - python_file: {relative_path: jobs.py, attribute: defs}\n"
        "  - python_package: {package_name: reports, location_name: reporting}\n"
    )
    result: Result = cli("init", "--json", "--no-examples", cwd=git_project)
    assert result.exit_code == 0, result
    target = WorkspaceFileTarget(paths=[str(git_project / "workspace.yaml")])
    served = [origin.location_name for origin in target.create_origins()]
    assert served == ["dagster_shop.definitions", "pipelines.py", "jobs.py:defs", "reporting"]
    assert json.loads(result.stdout)["locations"] == served
    written = (git_project / "daglab.yaml").read_text()
    for name in served:
        assert f"  #   {json.dumps(name)}\n" in written
    assert "dagster-shop" not in written and "repository_location_name" not in written
    table: Result = cli("init", cwd=git_project)
    assert "Code locations: dagster_shop.definitions, pipelines.py, jobs.py:defs, reporting" in (
        table.stdout.replace("\n", " ")
    )


def test_a_daglab_yaml_with_the_retired_location_key_still_loads_and_warns(
    cli, git_project: Path
) -> None:
    make_dg_project(git_project)
    (git_project / "daglab.yaml").write_text(
        "dagster:\n  port: 3000\n  repository_location_name: my_code_location\n"
    )
    loaded = load_config(start=git_project)
    assert loaded.config.dagster.port == 3000
    assert len(loaded.warnings) == 1
    assert (
        "dagster.repository_location_name in ./daglab.yaml is no longer read"
        in (loaded.warnings[0])
    )
    assert "--location" in loaded.warnings[0]
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 0, result
    assert "repository_location_name" in result.stderr and "no longer read" in result.stderr
    (git_project / "daglab.yaml").write_text("dagster:\n  port: 3000\n")
    assert load_config(start=git_project).warnings == ()
