"""What `pip install` gives a user: metadata, extras, typing marker, entry points."""

from __future__ import annotations

import importlib.metadata as md
import importlib.resources

import daglab


def test_metadata() -> None:
    meta = md.metadata("daglab")
    assert meta["Version"] == daglab.__version__
    assert meta["Requires-Python"] == ">=3.10"
    assert {"cloud", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    requirements = " ".join(md.requires("daglab") or [])
    for name in (
        "dagster",  # the dagster extra; dagster-graphql comes with dagster-webserver
        "dagster-webserver",
        "marimo",
        "typer",
        "rich",
        "jinja2",
        "pyyaml",
        "pydantic",
        "pydantic-settings",
        "httpx",
        "psutil",
    ):
        assert name in requirements


def test_console_script() -> None:
    scripts = {ep.name: ep.value for ep in md.entry_points(group="console_scripts")}
    assert scripts["daglab"] == "daglab._cli:main"


def test_typed_and_templates_ship_with_the_package() -> None:
    root = importlib.resources.files("daglab")
    assert root.joinpath("py.typed").is_file()
    assert root.joinpath("_templates", "init", "daglab.yaml.j2").is_file()
    assert root.joinpath("_templates", "project", "_common", "pyproject.toml.j2").is_file()
