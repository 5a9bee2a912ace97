"""Bad input gets one documented exit code, names the file or variable, and says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Result, run_daglab

REMEDY = "→ "


def error_json(result: Result) -> dict[str, object]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    "content",
    [b"dagster:\n  port: 3\xff\xfe\n", b"dagster:\n  port: 3000\x00\n", b"\x89PNG\r\n\x1a\n\x00"],
    ids=["invalid-utf8", "nul-byte", "png"],
)
def test_a_binary_daglab_yaml_is_a_config_error_naming_it(
    cli, git_project: Path, content: bytes
) -> None:
    (git_project / "daglab.yaml").write_bytes(content)
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 7, result
    assert "daglab.yaml" in result.stderr and "not a text file" in result.stderr
    assert REMEDY in result.stderr
    assert "Unexpected" not in result.output


def test_a_daglab_yaml_folder_is_not_ignored(cli, git_project: Path) -> None:
    (git_project / "daglab.yaml").mkdir()
    result: Result = cli("config", "show", "--json", cwd=git_project)
    assert result.exit_code == 7, result
    data = error_json(result)
    assert "daglab.yaml" in str(data["message"]) and "folder" in str(data["message"])
    assert data["remediation"]


def test_a_binary_run_config_file_is_exit_7_naming_it(git_project: Path) -> None:
    (git_project / "run.yaml").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    result = run_daglab("run", "--job", "j", "--run-config", "run.yaml", "--json", cwd=git_project)
    assert result.exit_code == 7, result
    data = error_json(result)
    assert "run.yaml" in str(data["message"]) and data["remediation"]


def test_a_binary_sweep_file_is_exit_7_naming_it(cli, git_project: Path) -> None:
    (git_project / "sweep.py").write_bytes(b"CONFIG = \x00\xff\n")
    result: Result = cli("config", "validate", "sweep.py", "--job", "j", cwd=git_project)
    assert result.exit_code == 7, result
    assert "sweep.py" in result.stderr


def test_a_malformed_list_variable_is_exit_7_naming_it(
    cli, git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_SECURITY__ALLOWED_OPERATIONS", "[oops")
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 7, result
    assert "DAGLAB_SECURITY__ALLOWED_OPERATIONS" in result.stderr
    assert REMEDY in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("discover", "--dagster-port", "70000"),
        ("run", "--job", "j", "--dagster-port", "0"),
        ("stats", "--dagster-port", "65536"),
        ("dev", "--dagster-port", "70000"),
        ("dev", "--marimo-port", "0"),
    ],
)
def test_a_port_flag_out_of_range_is_a_usage_error_everywhere(
    git_project: Path, args: tuple[str, ...]
) -> None:
    result = run_daglab(*args, cwd=git_project, timeout=60)
    assert result.exit_code == 2, result
    assert "--dagster-port" in result.stderr or "--marimo-port" in result.stderr


@pytest.mark.parametrize("command", [("discover",), ("run", "--job", "j"), ("dev", "--ci")])
def test_a_configured_port_out_of_range_is_exit_7_naming_the_key(
    git_project: Path, command: tuple[str, ...]
) -> None:
    env = {"DAGLAB_DAGSTER__PORT": "70000"}
    result = run_daglab(*command, cwd=git_project, env=env, timeout=60)
    assert result.exit_code == 7, result
    assert "DAGLAB_DAGSTER__PORT" in result.stderr and "dagster.port" in result.stderr
    (git_project / "daglab.yaml").write_text("marimo:\n  port: 0\n")
    result = run_daglab(*command, cwd=git_project, timeout=60)
    assert result.exit_code == 7, result
    assert "daglab.yaml, line 2" in result.stderr and "marimo.port" in result.stderr


def test_an_unknown_daglab_variable_warns_with_a_suggestion(
    cli, git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_GRAPHQL__MAX_RETRIES", "0")
    monkeypatch.setenv("DAGLAB_NO_HELP_CACHE", "1")  # daglab's own, not a setting
    result: Result = cli("config", "show", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert "DAGLAB_GRAPHQL__MAX_RETRIES" in warnings[0]
    assert "did you mean DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES" in warnings[0]
    json.loads(result.stdout)  # the warning stays off stdout


def test_known_variables_and_sections_do_not_warn(
    cli, git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES", "0")
    monkeypatch.setenv("DAGLAB_MARIMO", '{"port": 3011}')
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 0, result
    assert "WARNING" not in result.stderr
