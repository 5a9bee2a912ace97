"""Rendering the bootstrap templates: file sets, package names, injection-proof values."""

from __future__ import annotations

import ast
import sys
from pathlib import PurePosixPath

import pytest

from daglab._errors import ValidationError
from daglab._scaffold.project import (
    TEMPLATES,
    package_name_for,
    render_project,
    starter_assets,
    starter_job,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

COMMON = {
    "README.md",
    "pyproject.toml",
    ".gitignore",
    "src/pkg/__init__.py",
    "src/pkg/definitions.py",
    "src/pkg/defs/__init__.py",
    "tests/__init__.py",
    "tests/test_defs.py",
}
SPECIFIC = {
    "minimal": {"src/pkg/defs/starter.py"},
    "standard": {
        "src/pkg/defs/ingest.py",
        "src/pkg/defs/analytics.py",
        "src/pkg/defs/resources.py",
        "src/pkg/defs/jobs.py",
    },
    "ml": {
        "src/pkg/defs/data.py",
        "src/pkg/defs/features.py",
        "src/pkg/defs/model.py",
        "src/pkg/defs/jobs.py",
    },
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_file_set(template: str) -> None:
    files = render_project(package="pkg", template=template, project_name="p")
    assert {str(path) for path in files} == COMMON | SPECIFIC[template]
    for path in files:
        assert "dagster" not in PurePosixPath(path).parts[:-1]


@pytest.mark.parametrize("template", TEMPLATES)
def test_python_parses_and_pyproject_is_valid(template: str) -> None:
    files = render_project(package="pkg", template=template, project_name="p")
    for path, content in files.items():
        if path.suffix == ".py":
            ast.parse(content, filename=str(path))
    pyproject = tomllib.loads(files[PurePosixPath("pyproject.toml")])
    assert pyproject["tool"]["dg"]["project"]["root_module"] == "pkg"
    assert pyproject["tool"]["dagster"]["module_name"] == "pkg.definitions"
    job = starter_job(template)
    assert any(f'"{job}"' in c for p, c in files.items() if "defs" in p.parts)
    for asset in starter_assets(template):
        assert any(f"def {asset}(" in c for c in files.values())


@pytest.mark.parametrize(
    "name",
    ['my "proj"', "a'''b", 'x"""y', "brace {{ x }} {% if %}", "new\nline", "back\\slash", "é✓"],
)
def test_project_name_cannot_inject_code(name: str) -> None:
    files = render_project(package="pkg", template="standard", project_name=name)
    module = ast.parse(files[PurePosixPath("src/pkg/__init__.py")])
    assigned = [n for n in module.body if isinstance(n, ast.Assign)]
    assert len(module.body) == 2 and len(assigned) == 1  # docstring + PROJECT_NAME, nothing else
    assert ast.literal_eval(assigned[0].value) == name
    assert tomllib.loads(files[PurePosixPath("pyproject.toml")])["project"]["name"] == name


@pytest.mark.parametrize(
    ("folder", "package"),
    [("My Project-1", "my_project_1"), ("shop", "shop"), ("  data--lake ", "data_lake")],
)
def test_package_names(folder: str, package: str) -> None:
    assert package_name_for(folder) == package


@pytest.mark.parametrize(
    "folder",
    ["dagster", "dagster_foo", "daglab", "marimo", "os", "json", "1abc", "", "---", "class"],
)
def test_unsafe_package_names_are_refused(folder: str) -> None:
    with pytest.raises(ValidationError) as info:
        package_name_for(folder)
    assert "--package-name" in info.value.remediation


def test_unknown_template() -> None:
    with pytest.raises(ValidationError, match="unknown project template"):
        render_project(package="pkg", template="huge", project_name="p")


def test_render_refuses_an_unsafe_package() -> None:
    with pytest.raises(ValidationError):
        render_project(package="dagster", template="minimal", project_name="p")
