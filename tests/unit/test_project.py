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


# -- the names Dagster serves, checked against Dagster's and dg's own code ---------------------


def dagster_names(root: Path, target: str) -> list[str]:
    """The location names Dagster itself gives ``workspace.yaml`` or ``pyproject.toml``."""
    import os

    from dagster._core.workspace.load_target import PyProjectFileTarget, WorkspaceFileTarget

    here = Path.cwd()
    os.chdir(root)  # Dagster reads pyproject.toml's modules relative to the current folder
    try:
        made = (
            WorkspaceFileTarget(paths=[str(root / target)])
            if target.startswith("workspace")
            else PyProjectFileTarget(str(root / target))
        )
        return [origin.location_name for origin in made.create_origins()]
    finally:
        os.chdir(here)


def dg_name(root: Path) -> str:
    from dagster_dg_core.context import DgContext

    return DgContext.for_project_environment(root, {}).code_location_name


WORKSPACE = """load_from:
  - python_module: {module_name: shop.definitions, working_directory: src}
  - python_module: {module_name: shop.more, location_name: more_shop}
  - python_module: shop.short
  - python_file: {relative_path: pipelines/etl.py}
  - python_file: {relative_path: defs.py, attribute: defs, location_name: named_file}
  - python_file: analytics/pipelines.py
  - python_file: {relative_path: other.py, attribute: defs}
  - python_package: {package_name: dagster_testing}
  - python_package: dagster_pkg
  - python_package: {package_name: pkg2, location_name: package_two}
  - grpc_server: {host: localhost, port: 4266}
  - grpc_server: {host: remote, port: 4267, location_name: remote_code}
"""


def test_workspace_locations_are_named_as_dagster_names_them(git_project: Path) -> None:
    from daglab._project import served_locations

    (git_project / "workspace.yaml").write_text(WORKSPACE)
    ours = list(served_locations(git_project, {}, dg_found=True))
    assert ours == dagster_names(git_project, "workspace.yaml")
    assert ours[:4] == ["shop.definitions", "more_shop", "shop.short", "etl.py"]
    assert "grpc:localhost:4266" in ours and "remote_code" in ours
    assert find_project(git_project).locations == tuple(ours)


@pytest.mark.parametrize(
    "dagster_table",
    [
        'module_name = "dagster_testing.definitions"\ncode_location_name = "dagster_testing"\n',
        'module_name = "dagster_testing.definitions"\n',
        'modules = [{type = "module", name = "one.defs"}, {type = "module", name = "two.defs"}]\n',
        'modules = [{type = "module", name = "one.defs"}]\ncode_location_name = "one"\n',
    ],
)
def test_tool_dagster_locations_are_named_as_dagster_names_them(
    git_project: Path, dagster_table: str
) -> None:
    from daglab._project import read_pyproject, served_locations

    text = '[project]\nname = "dagster-testing"\n\n[tool.dagster]\n' + dagster_table
    (git_project / "pyproject.toml").write_text(text)
    # a workspace.yaml beside it is not what `dagster dev` loads: pyproject.toml wins
    (git_project / "workspace.yaml").write_text(WORKSPACE)
    pyproject = read_pyproject(git_project / "pyproject.toml")
    ours = list(served_locations(git_project, pyproject, dg_found=False))
    assert ours == dagster_names(git_project, "pyproject.toml")
    assert "dagster-testing" not in ours


@pytest.mark.parametrize(
    "dg_table",
    [
        'root_module = "dagster_testing"\n',
        'root_module = "dagster_testing"\ncode_location_name = "testing"\n',
        'root_module = "dagster_testing"\ndefs_module = "dagster_testing.d"\n',
        'root_module = "dagster_testing"\ncode_location_target_module = "dagster_testing.d"\n',
        # Dagster reads autoload_defs; dg 1.13 rejects the key, so only `dagster dev` applies
        'root_module = "dagster_testing"\nautoload_defs = true\ndefs_module = "x.defs"\n',
    ],
)
def test_dg_project_locations_are_named_as_dg_and_dagster_name_them(
    tmp_path: Path, dg_table: str
) -> None:
    from daglab._project import read_pyproject, served_locations

    root = tmp_path / "dagster-testing"
    (root / "src" / "dagster_testing").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "dagster-testing"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        "[tool.dg.project]\n" + dg_table
    )
    pyproject = read_pyproject(root / "pyproject.toml")
    # `dg dev` (what `daglab dev` runs when dg is installed) and `dagster dev` differ
    if "autoload_defs" not in dg_table:
        assert served_locations(root, pyproject, dg_found=True) == (dg_name(root),)
    assert list(served_locations(root, pyproject, dg_found=False)) == dagster_names(
        root, "pyproject.toml"
    )


def test_dg_workspace_names_each_project_as_dg_does(tmp_path: Path) -> None:
    from daglab._project import served_locations

    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "dg.toml").write_text(
        'directory_type = "workspace"\n\n[workspace]\n\n'
        '[[workspace.projects]]\npath = "projects/shop-one"\n\n'
        '[[workspace.projects]]\npath = "projects/two"\n'
    )
    one = root / "projects" / "shop-one"
    one.mkdir(parents=True)
    (one / "pyproject.toml").write_text(
        '[project]\nname = "shop-one"\n[tool.dg]\ndirectory_type = "project"\n'
        '[tool.dg.project]\nroot_module = "shop_one"\n'
    )
    two = root / "projects" / "two"
    two.mkdir(parents=True)
    (two / "pyproject.toml").write_text('[project]\nname = "two"\n')
    (two / "dg.toml").write_text(
        'directory_type = "project"\n[project]\nroot_module = "two"\n'
        'code_location_name = "second"\n'
    )
    assert served_locations(root, {}, dg_found=True) == (dg_name(one), dg_name(two))
    assert served_locations(root, {}, dg_found=True) == ("shop-one", "second")
    assert served_locations(root, {}, dg_found=False) == ()  # only `dg dev` serves a workspace
    project = find_project(root)
    assert project.kind == "dg-workspace"
