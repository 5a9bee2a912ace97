"""The CLI frame: version, help with examples, global options, the error handler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import daglab
from tests.conftest import Result

COMMANDS = [
    ["init"],
    ["scaffold"],
    ["dev"],
    ["discover"],
    ["run"],
    ["export"],
    ["stats"],
    ["migrate"],
    ["doctor"],
    ["clean"],
    ["config"],
    ["config", "show"],
    ["config", "validate"],
]


def test_version(cli, tmp_path: Path) -> None:
    result: Result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"daglab {daglab.__version__}"


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "daglab", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"daglab {daglab.__version__}"


def test_root_help_lists_every_command_and_examples(cli) -> None:
    result: Result = cli("--help")
    assert result.exit_code == 0, result
    for name in ("init", "doctor", "clean", "config", "discover", "run"):
        assert name in result.stdout
    assert "Examples" in result.stdout
    assert "Exit codes" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, command: list[str]) -> None:
    result: Result = cli(*command, "--help")
    assert result.exit_code == 0, result
    assert "Usage" in result.stdout
    if command != ["config"]:
        assert "Examples" in result.stdout
        assert f"daglab {' '.join(command)}" in result.stdout


def test_no_arguments_shows_help(cli) -> None:
    result: Result = cli()
    assert "Usage" in result.output
    assert result.exit_code in (0, 2)


def test_unknown_command_is_usage_error(cli) -> None:
    result: Result = cli("frobnicate")
    assert result.exit_code == 2
    assert "frobnicate" in result.output


def test_unknown_flag_is_usage_error(cli) -> None:
    result: Result = cli("doctor", "--no-such-flag")
    assert result.exit_code == 2


def test_log_level_is_accepted_after_the_command(cli, git_project: Path) -> None:
    result: Result = cli("config", "show", "--json", "--log-level", "DEBUG", cwd=git_project)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["values"]["dagster.port"] == 3000


def test_bad_log_level(cli, git_project: Path) -> None:
    result: Result = cli("--log-level", "LOUD", "config", "show", cwd=git_project)
    assert result.exit_code == 2
    assert "LOUD" in result.stderr


def test_errors_print_message_and_remediation_without_traceback(cli, git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("dagster:\n  prot: 1\n")
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 7
    assert "did you mean 'dagster.port'" in result.stderr
    assert "→" in result.stderr
    assert "Traceback" not in result.output


def test_debug_adds_the_traceback(cli, git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("dagster:\n  prot: 1\n")
    result: Result = cli("--log-level", "DEBUG", "config", "show", cwd=git_project)
    assert result.exit_code == 7
    assert "Traceback" in result.stderr


def test_errors_as_json(cli, git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("marimo: {port: 0}\n")
    result: Result = cli("config", "show", "--json", cwd=git_project)
    assert result.exit_code == 7
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 7
    assert payload["error"] == "ConfigError"
    assert payload["details"]["key"] == "marimo.port"
    assert payload["remediation"]


def test_config_show_table_names_sources(cli, git_project: Path, monkeypatch) -> None:
    (git_project / "daglab.yaml").write_text("dagster: {port: 3999}\n")
    monkeypatch.setenv("DAGLAB_MARIMO__PORT", "3998")
    result: Result = cli("config", "show", cwd=git_project)
    assert result.exit_code == 0, result
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "3999" in lines["dagster.port"] and "./daglab.yaml" in lines["dagster.port"]
    assert "3998" in lines["marimo.port"] and "DAGLAB_MARIMO__PORT" in lines["marimo.port"]
    assert "default" in lines["export.retention_days"]


def test_config_show_names_the_pyproject_table(cli, git_project: Path) -> None:
    (git_project / "pyproject.toml").write_text(
        '[tool.dagster]\nmodule_name = "x"\n[tool.daglab.marimo]\nport = 3997\n'
    )
    result: Result = cli("config", "show", cwd=git_project)
    assert "[tool.daglab]" in result.stdout


def test_config_show_json(cli, git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("dagster: {url: 'https://acme.dagster.cloud/prod'}\n")
    result: Result = cli("config", "show", "--json", cwd=git_project)
    data = json.loads(result.stdout)
    assert data["graphql_url"] == "https://acme.dagster.cloud/prod/graphql"
    assert data["provenance"]["dagster.url"] == "./daglab.yaml"
    assert data["provenance"]["dagster.port"] == "default"
    assert data["sources"][0]["kind"] == "file"


def test_public_surface_is_deliberate() -> None:
    assert daglab.__all__ == [
        "AsyncDagsterClient",
        "AuthenticationError",
        "ConfigError",
        "ConflictError",
        "ConnectivityError",
        "DaglabConfig",
        "DaglabError",
        "DagsterClient",
        "EnvironmentMissingError",
        "ExitCode",
        "LoadedConfig",
        "Project",
        "RunFailedError",
        "UsageError",
        "ValidationError",
        "__version__",
        "find_project",
        "load_config",
    ]
    assert daglab.__all__ == sorted(daglab.__all__)
    for name in daglab.__all__:
        assert getattr(daglab, name) is not None
    with pytest.raises(AttributeError):
        _ = daglab.not_a_thing  # type: ignore[attr-defined]


def test_only_the_named_command_is_built() -> None:
    """Typer builds every command's parameters before parsing; a run builds only its own."""
    from daglab._cli import _app

    assert _app._command_name(["--log-level", "DEBUG", "workspace", "list"]) == "workspace"
    assert _app._command_name(["--json"]) is None
    narrowed = _app._narrowed("workspace")
    assert [g.name for g in narrowed.registered_groups] == ["workspace"]
    assert narrowed.registered_commands == []
    assert [c.callback.__name__ for c in _app._narrowed("doctor").registered_commands if c.callback]
    # The app itself is untouched, and an unknown name gets all of it (for the suggestions).
    assert _app._narrowed("nosuch") is _app.app
    assert len(_app.app.registered_groups) > 1 and len(_app.app.registered_commands) > 1
