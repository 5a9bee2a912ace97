"""``[tool.daglab.module]``: read back what ``daglab module new`` records, refuse bad tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from daglab._errors import ConfigError
from daglab._modules import ModuleMeta, read_module_meta

FULL = """\
[project]
name = "alpha"

[tool.daglab.module]
name = "alpha"
template = "standard"
addons = ["postgres", "schedule"]
port = 4001
env = ["ALPHA_POSTGRES_URL"]
cron = "0 6 * * *"
timezone = "Europe/Paris"
daglab_version = "0.1.0"
"""


def write(folder: Path, text: str) -> Path:
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")
    return folder


def test_reads_every_field(tmp_path: Path) -> None:
    meta = read_module_meta(write(tmp_path, FULL))
    assert meta == ModuleMeta(
        template="standard",
        addons=("postgres", "schedule"),
        port=4001,
        env=("ALPHA_POSTGRES_URL",),
        daglab_version="0.1.0",
        name="alpha",
        cron="0 6 * * *",
        timezone="Europe/Paris",
    )


def test_round_trips_through_its_table(tmp_path: Path) -> None:
    import tomlkit

    meta = read_module_meta(write(tmp_path, FULL))
    assert meta is not None
    text = tomlkit.dumps({"tool": {"daglab": {"module": meta.to_table()}}})
    assert read_module_meta(write(tmp_path, text)) == meta


def test_minimal_table_defaults(tmp_path: Path) -> None:
    meta = read_module_meta(write(tmp_path, '[tool.daglab.module]\ntemplate = "minimal"\n'))
    assert meta == ModuleMeta(template="minimal")


@pytest.mark.parametrize(
    "text", ["", '[project]\nname = "x"\n', '[tool.daglab]\nnotebooks = "nb"\n']
)
def test_not_a_module(tmp_path: Path, text: str) -> None:
    assert read_module_meta(write(tmp_path, text)) is None


def test_no_pyproject(tmp_path: Path) -> None:
    assert read_module_meta(tmp_path) is None


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('template = "huge"', "template"),
        ('template = "minimal"\naddons = ["redis"]', "redis"),
        ('template = "minimal"\naddons = "postgres"', "addons"),
        ('template = "minimal"\nport = 70000', "port"),
        ('template = "minimal"\nport = true', "port"),
        ('template = "minimal"\nenv = ["lower case"]', "env"),
        ('template = "minimal"\ncron = 5', "cron"),
    ],
)
def test_bad_table_is_a_config_error(tmp_path: Path, table: str, named: str) -> None:
    write(tmp_path, f"[tool.daglab.module]\n{table}\n")
    with pytest.raises(ConfigError, match=named) as caught:
        read_module_meta(tmp_path)
    assert "pyproject.toml" in caught.value.message
    assert caught.value.exit_code == 7


def test_module_not_a_table(tmp_path: Path) -> None:
    write(tmp_path, '[tool.daglab]\nmodule = "standard"\n')
    with pytest.raises(ConfigError, match="not a table"):
        read_module_meta(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path, "[tool.daglab.module\n")
    with pytest.raises(ConfigError):
        read_module_meta(tmp_path)
