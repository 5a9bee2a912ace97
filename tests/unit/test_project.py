"""Finding the project root, its Dagster markers, code package and notebooks folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from daglab._errors import ConfigError
from daglab._project import find_project
from tests.conftest import make_dg_project


def test_dg_project(git_project: Path) -> None:
    make_dg_project(git_project, "shop")
    (git_project / "src" / "shop" / "defs" / "deep").mkdir()
    project = find_project(git_project / "src" / "shop" / "defs" / "deep")
    assert project.root == git_project
    assert project.kind == "dg-project"
    assert project.package == "shop"
    # `dg dev` serves a project under its folder's name unless code_location_name says otherwise
    assert project.location_name == "proj"
    assert project.package_dir == git_project / "src" / "shop"
    assert project.default_notebooks_dir() == git_project / "src" / "shop" / "notebooks"
    assert "pyproject.toml [tool.dg]" in project.markers


def test_tool_dagster_module_name(git_project: Path) -> None:
    (git_project / "analytics").mkdir()
    (git_project / "analytics" / "__init__.py").write_text("")
    (git_project / "pyproject.toml").write_text(
        '[tool.dagster]\nmodule_name = "analytics.definitions"\ncode_location_name = "prod"\n'
    )
    project = find_project(git_project)
    assert project.kind == "dagster-project"
    assert (project.package, project.location_name) == ("analytics", "prod")
    assert project.default_notebooks_dir() == git_project / "analytics" / "notebooks"


@pytest.mark.parametrize(
    ("entry", "package", "location"),
    [
        ("- python_module: etl.defs", "etl", "etl.defs"),
        (
            "- python_module: {module_name: etl.defs, location_name: etl_loc}",
            "etl",
            "etl_loc",
        ),
        ("- python_package: {package_name: etl, location_name: pk}", "etl", "pk"),
        ("- python_file: {relative_path: etl/definitions.py, location_name: f}", "etl", "f"),
    ],
)
def test_workspace_yaml(git_project: Path, entry: str, package: str, location: str) -> None:
    (git_project / "etl").mkdir()
    (git_project / "etl" / "__init__.py").write_text("")
    (git_project / "workspace.yaml").write_text(f"load_from:\n  {entry}\n")
    project = find_project(git_project)
    assert project.kind == "workspace"
    assert (project.package, project.location_name) == (package, location)
    assert project.default_notebooks_dir() == git_project / "etl" / "notebooks"


def test_plain_dagster_folder_is_used_only_when_not_a_package(git_project: Path) -> None:
    (git_project / "dagster.yaml").write_text("")
    (git_project / "dagster").mkdir()
    project = find_project(git_project)
    assert project.package is None
    assert project.default_notebooks_dir() == git_project / "dagster" / "notebooks"
    (git_project / "dagster" / "__init__.py").write_text("")
    assert find_project(git_project).default_notebooks_dir() == git_project / "notebooks"


def test_a_package_named_dagster_is_never_the_code_package(git_project: Path) -> None:
    (git_project / "dagster").mkdir()
    (git_project / "dagster" / "__init__.py").write_text("")
    (git_project / "pyproject.toml").write_text('[tool.dagster]\nmodule_name = "dagster.defs"\n')
    project = find_project(git_project)
    assert project.package is None
    assert project.default_notebooks_dir() == git_project / "notebooks"


def test_no_markers_means_no_project(git_project: Path) -> None:
    project = find_project(git_project)
    assert not project.is_dagster_project
    assert project.root == git_project


def test_daglab_yaml_alone_locates_but_is_not_a_dagster_project(git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("{}\n")
    (git_project / "sub").mkdir()
    project = find_project(git_project / "sub")
    assert project.root == git_project
    assert not project.is_dagster_project


def test_dagster_marker_beats_a_closer_daglab_yaml(git_project: Path) -> None:
    make_dg_project(git_project)
    (git_project / "nested").mkdir()
    (git_project / "nested" / "daglab.yaml").write_text("{}\n")
    assert find_project(git_project / "nested").root == git_project


def test_project_depending_on_dagster(git_project: Path) -> None:
    (git_project / "pyproject.toml").write_text(
        '[project]\nname = "my-etl"\ndependencies = ["dagster>=1.13", "pandas"]\n'
    )
    (git_project / "src" / "my_etl").mkdir(parents=True)
    project = find_project(git_project)
    assert project.is_dagster_project
    assert project.package == "my_etl"


def test_malformed_pyproject_is_a_config_error(git_project: Path) -> None:
    (git_project / "pyproject.toml").write_text("[tool.dg\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        find_project(git_project)


def test_location_names_are_the_ones_dagster_serves(git_project: Path) -> None:
    from daglab._project import workspace_entries

    (git_project / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: pipelines/etl.py}\n"
        "  - python_file: {relative_path: defs.py, attribute: defs}\n"
        "  - python_module: {module_name: shop.definitions}\n"
        "  - python_module: {module_name: shop.more, location_name: more}\n"
        "  - python_package: {package_name: dagster_testing}\n"
    )
    names = [entry.served_name for entry in workspace_entries(git_project)]
    # Dagster names a location after the file (with .py) or module, plus :attribute
    assert names == ["etl.py", "defs.py:defs", "shop.definitions", "more", "dagster_testing"]
    assert find_project(git_project).location_name == "etl.py"

    (git_project / "workspace.yaml").unlink()
    (git_project / "pyproject.toml").write_text(
        '[project]\nname = "dagster-testing"\n\n'
        '[tool.dagster]\nmodule_name = "dagster_testing.defs"\n'
    )
    assert find_project(git_project).location_name == "dagster_testing.defs"
