"""``daglab._scaffold.project``: file sets, package names, and values that cannot inject code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from daglab._errors import TemplateError, ValidationError
from daglab._scaffold.project import (
    RESERVED_PACKAGE_NAMES,
    TEMPLATES,
    is_reserved_package_name,
    package_name_for,
    render_project,
    starter_assets,
    starter_job,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

COMMON = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "src/pkg/__init__.py",
    "src/pkg/definitions.py",
    "src/pkg/defs/__init__.py",
    "tests/__init__.py",
    "tests/test_defs.py",
}
SPECIFIC = {
    "minimal": {"src/pkg/defs/starter.py"},
    "standard": {
        "src/pkg/defs/analytics.py",
        "src/pkg/defs/ingest.py",
        "src/pkg/defs/jobs.py",
        "src/pkg/defs/resources.py",
    },
    "ml": {
        "src/pkg/defs/data.py",
        "src/pkg/defs/features.py",
        "src/pkg/defs/jobs.py",
        "src/pkg/defs/model.py",
    },
}
STARTERS = {
    "minimal": (["starter_numbers", "starter_total"], "starter_job"),
    "standard": (["raw_orders", "daily_revenue", "top_customers", "revenue_report"], "orders_job"),
    "ml": (["training_data", "features", "trained_model", "model_evaluation"], "training_job"),
}
NASTY_NAMES = [
    'my "proj"',
    "it's",
    "a'''b",
    'x"""y',
    '"""; import os; os.system("x"); """',
    "brace {{ package }} {% if true %}x{% endif %} {# c #}",
    "new\nline",
    "carriage\rreturn\ttab",
    "back\\slash\\",
    "nul\x00byte",
    "é✓ 日本",
    "[tool.dagster]\nmodule_name = 'dagster'",
]
#: PEP 508 project names, which hatchling enforces for ``[project] name``.
DISTRIBUTION_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def render(template: str = "standard", **kwargs: object) -> dict[PurePosixPath, str]:
    options: dict[str, object] = {"package": "pkg", "template": template, "project_name": "p"}
    options.update(kwargs)
    return render_project(**options)  # type: ignore[arg-type]


def pyproject(files: dict[PurePosixPath, str]) -> dict[str, object]:
    return tomllib.loads(files[PurePosixPath("pyproject.toml")])


# --- file sets and layout -------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_the_expected_files(template: str) -> None:
    files = render(template)
    assert {str(path) for path in files} == COMMON | SPECIFIC[template]
    assert all(isinstance(path, PurePosixPath) and not path.is_absolute() for path in files)
    assert all(".." not in path.parts for path in files)
    assert all(content.endswith("\n") or content == "" for content in files.values())


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_generated_directory_is_named_dagster(template: str) -> None:
    for package in ("pkg", "my_dagster_project", "dagsterish"):
        for path in render(template, package=package):
            assert "dagster" not in path.parts[:-1], path


@pytest.mark.parametrize("template", TEMPLATES)
def test_python_parses_and_pyproject_is_what_dg_and_dagster_read(template: str) -> None:
    files = render(template, package="shop_data")
    for path, content in files.items():
        if path.suffix == ".py":
            ast.parse(content, filename=str(path))
    data = pyproject(files)
    tool = data["tool"]
    assert isinstance(tool, dict)
    assert tool["dg"]["directory_type"] == "project"
    assert tool["dg"]["project"] == {"root_module": "shop_data", "code_location_name": "shop_data"}
    assert tool["dagster"] == {
        "module_name": "shop_data.definitions",
        "code_location_name": "shop_data",
    }
    assert tool["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/shop_data"]
    assert tool["pytest"]["ini_options"]["pythonpath"] == ["src"]
    project = data["project"]
    assert isinstance(project, dict)
    assert project["name"] == "shop-data"
    assert any(str(dep).startswith("dagster>=1.13") for dep in project["dependencies"])


def test_definitions_use_load_from_defs_folder() -> None:
    definitions = render()[PurePosixPath("src/pkg/definitions.py")]
    assert "@dg.definitions" in definitions
    assert "dg.load_from_defs_folder(path_within_project=Path(__file__).parent)" in definitions


@pytest.mark.parametrize("template", TEMPLATES)
def test_starter_assets_and_job_are_defined(template: str) -> None:
    assets, job = STARTERS[template]
    assert starter_assets(template) == assets
    assert starter_job(template) == job
    files = render(template)
    defs = "\n".join(content for path, content in files.items() if "defs" in path.parts)
    for asset in assets:
        assert "/" not in asset or all(asset.split("/"))
        assert re.search(rf"^def {asset}\(", defs, re.MULTILINE), asset
    assert f'name="{job}"' in defs
    assert "(dg.Config)" in defs  # the job takes run config
    test = files[PurePosixPath("tests/test_defs.py")]
    assert f'resolve_job_def("{job}")' in test and "execute_in_process" in test


def test_starter_lists_are_copies() -> None:
    starter_assets("minimal").append("x")
    assert "x" not in starter_assets("minimal")


def test_standard_template_has_groups_owners_resource_and_a_stopped_schedule() -> None:
    files = render("standard")
    defs = "\n".join(content for path, content in files.items() if "defs" in path.parts)
    assert {"ingest", "analytics"} <= set(re.findall(r'group_name="(\w+)"', defs))
    assert "owners=" in defs and "tags=" in defs and "kinds=" in defs
    assert "(dg.ConfigurableResource)" in defs
    assert "default_status=dg.DefaultScheduleStatus.STOPPED" in defs


def test_ml_template_trains_with_config_and_reports_metrics() -> None:
    defs = "\n".join(c for p, c in render("ml").items() if "defs" in p.parts)
    assert "learning_rate: float" in defs and "epochs: int" in defs
    assert "dg.MaterializeResult(value=metrics, metadata=" in defs
    for heavy in ("pandas", "numpy", "sklearn"):
        assert f"import {heavy}" not in defs


# --- package names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "package"),
    [
        ("My Project-1", "my_project_1"),
        ("shop", "shop"),
        ("  data--lake ", "data_lake"),
        ("Café Data", "cafe_data"),
        ("_private_", "private"),
        ("my-dagster-project", "my_dagster_project"),
    ],
)
def test_package_name_for(folder: str, package: str) -> None:
    assert package_name_for(folder) == package


@pytest.mark.parametrize(
    "folder",
    [
        "dagster",
        "Dagster",
        "dagster_foo",
        "dagster-webserver",
        "Dagster Pipelines",
        "daglab",
        "marimo",
        "os",
        "json",
        "test",
        "tests",
        "src",
        "1abc",
        "",
        "   ",
        "---",
        "日本",
        "class",
    ],
)
def test_unsafe_package_names_are_refused(folder: str) -> None:
    with pytest.raises(ValidationError) as info:
        package_name_for(folder)
    assert "--package-name" in info.value.remediation
    assert info.value.exit_code == 7


def test_reserved_names() -> None:
    assert {"dagster", "daglab", "marimo", "test", "tests", "src", "os", "json"} <= (
        RESERVED_PACKAGE_NAMES
    )
    assert set(sys.stdlib_module_names) <= RESERVED_PACKAGE_NAMES
    assert is_reserved_package_name("dagster_foo")
    assert is_reserved_package_name("DAGSTER")
    assert not is_reserved_package_name("my_dagster_project")


@pytest.mark.parametrize(
    "package", ["dagster", "dagster_foo", "daglab", "os", "1abc", "", "My_Pkg", "a-b", "for", "é"]
)
def test_render_refuses_an_unsafe_package(package: str) -> None:
    with pytest.raises(ValidationError):
        render(package=package)


def test_render_refuses_an_unknown_template() -> None:
    with pytest.raises(ValidationError, match="unknown project template") as info:
        render("huge")
    assert "minimal, standard, ml" in info.value.remediation
    for function in (starter_assets, starter_job):
        with pytest.raises(ValidationError):
            function("huge")


@pytest.mark.parametrize("port", [0, 65536, -1, True, "3000"])
def test_render_refuses_a_bad_port(port: object) -> None:
    with pytest.raises(ValidationError):
        render(dagster_port=port)


@pytest.mark.parametrize("name", ["", "  \n", "bad\ud800surrogate"])
def test_render_refuses_an_empty_or_undecodable_project_name(name: str) -> None:
    with pytest.raises(ValidationError):
        render(project_name=name)


def test_template_errors_are_template_errors() -> None:
    assert issubclass(TemplateError, ValidationError)


# --- injection ------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("name", NASTY_NAMES)
def test_project_name_cannot_inject_code(template: str, name: str) -> None:
    files = render(template, project_name=name)
    assert {str(path) for path in files} == COMMON | SPECIFIC[template]
    plain = render(template, project_name="p")
    for path, content in files.items():
        if path.suffix == ".py":
            tree = ast.parse(content, filename=str(path))
            if path != PurePosixPath("src/pkg/__init__.py"):
                assert content == plain[path], path  # the name reaches no other module
                continue
            assert [type(node) for node in tree.body] == [ast.Expr, ast.Assign]
            assigned = tree.body[1]
            assert isinstance(assigned, ast.Assign)
            assert ast.literal_eval(assigned.value) == name
    data = pyproject(files)
    assert data["project"]["description"] == f"Dagster code for {name}."  # type: ignore[index]
    assert data["project"]["name"] == "pkg"  # type: ignore[index]
    assert data["tool"]["dagster"]["module_name"] == "pkg.definitions"  # type: ignore[index]
    title = files[PurePosixPath("README.md")].splitlines()[0]
    assert title == "# " + " ".join(name.split())


@pytest.mark.parametrize("folder", ["My Project-1", "x", "Café Data", "a.b c"])
def test_distribution_name_is_valid_for_any_folder(folder: str) -> None:
    files = render(package=package_name_for(folder), project_name=folder)
    name = pyproject(files)["project"]["name"]  # type: ignore[index]
    assert DISTRIBUTION_NAME.match(str(name)), name


# --- side effects and start-up cost ---------------------------------------------------------


def test_rendering_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for template in TEMPLATES:
        render(template)
    assert list(tmp_path.iterdir()) == []


def test_importing_the_module_does_not_load_jinja() -> None:
    code = (
        "import sys, daglab._scaffold.project as p; p.package_name_for('x'); p.starter_job('ml');"
        " print(sorted(m for m in ('jinja2', 'dagster', 'yaml', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
