"""The configuration hierarchy, validation errors and provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daglab._config import flatten, load_config
from daglab._config_models import DaglabConfig, leaf_paths
from daglab._errors import ConfigError, ExitCode


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_cover_every_key_of_the_spec(git_project: Path) -> None:
    config = load_config(start=git_project).config
    assert config.dagster.port == 3000
    assert config.marimo.port == 3010
    assert config.dagster.auth.token_env == "DAGSTER_GRAPHQL_TOKEN"
    assert config.performance.max_concurrent_runs == 3
    assert config.export.cloud_storage.prefix == "daglab-exports/"
    assert config.logging.max_bytes == 10 * 1024 * 1024
    assert config.telemetry.enabled is False
    assert config.security.allowed_operations == ["launchRun", "getRunStatus", "getRepositories"]
    keys = set(leaf_paths())
    for key in (
        "version",
        "notebooks_dir",
        "dagster.host",
        "dagster.url",
        "dagster.path_prefix",
        "dagster.repository_name",
        "dagster.repository_location_name",
        "dagster.auth.type",
        "dagster.auth.header_name",
        "dagster.graphql.timeout",
        "dagster.graphql.max_retries",
        "marimo.auto_save",
        "defaults.notebook_template",
        "defaults.attach_metadata_key",
        "defaults.open_browser",
        "defaults.git_commit",
        "defaults.validate_config",
        "defaults.seed_data",
        "performance.polling_interval",
        "performance.max_wait_time",
        "export.retention_days",
        "export.compress",
        "export.cloud_storage.provider",
        "export.cloud_storage.bucket",
        "logging.level",
        "logging.format",
        "logging.file",
        "logging.backup_count",
        "telemetry.endpoint",
        "telemetry.anonymous_id",
        "security.sandbox_mode",
    ):
        assert key in keys


def test_the_spec_example_file_is_valid(git_project: Path) -> None:
    example = """
version: 1.0
notebooks_dir: dagster/notebooks
dagster:
  host: localhost
  port: 3000
  repository_name: my_repo
  repository_location_name: my_code_location
  auth: {type: none, token_env: DAGSTER_GRAPHQL_TOKEN, header_name: Authorization}
  graphql: {timeout: 30, max_retries: 3}
marimo: {port: 3010, auto_save: true}
defaults:
  notebook_template: default
  attach_metadata_key: exploration
  open_browser: true
  git_commit: false
  validate_config: true
  seed_data: false
performance: {max_concurrent_runs: 3, polling_interval: 2, max_wait_time: 300}
export:
  retention_days: 30
  compress: true
  cloud_storage: {provider: none, bucket: null, prefix: daglab-exports/}
logging:
  level: INFO
  format: "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
  file: .daglab/daglab.log
  max_bytes: 10485760
  backup_count: 5
telemetry: {enabled: false, endpoint: https://telemetry.daglab.io, anonymous_id: null}
security:
  sandbox_mode: false
  allowed_operations: [launchRun, getRunStatus, getRepositories]
"""
    write(git_project / "daglab.yaml", example)
    config = load_config(start=git_project).config
    assert config.version == "1.0"
    assert config.dagster.repository_name == "my_repo"


def test_each_layer_beats_the_ones_below(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path.home()
    sub = git_project / "pkg" / "sub"
    sub.mkdir(parents=True)
    write(
        home / ".daglab" / "config.yaml",
        "dagster: {port: 1001, host: user-host}\n"
        "marimo: {port: 2001}\nperformance: {max_concurrent_runs: 9}\n",
    )
    write(
        git_project / "pyproject.toml",
        '[project]\nname = "x"\n[tool.dagster]\nmodule_name = "x.defs"\n'
        '[tool.daglab]\nnotebooks_dir = "nb"\n[tool.daglab.dagster]\nport = 1002\n'
        'host = "toml-host"\n[tool.daglab.marimo]\nport = 2002\n',
    )
    write(git_project / "daglab.yaml", "dagster: {port: 1003, host: parent-host}\n")
    write(sub / "daglab.yaml", "dagster: {port: 1004}\n")
    monkeypatch.setenv("DAGLAB_DAGSTER__PORT", "1005")

    loaded = load_config(start=sub, overrides={"dagster.port": 1006})
    assert loaded.config.dagster.port == 1006
    assert loaded.provenance["dagster.port"] == "command-line flag"

    loaded = load_config(start=sub)
    assert loaded.config.dagster.port == 1005
    assert loaded.provenance["dagster.port"] == "DAGLAB_DAGSTER__PORT"

    monkeypatch.delenv("DAGLAB_DAGSTER__PORT")
    loaded = load_config(start=sub)
    assert loaded.config.dagster.port == 1004
    assert loaded.provenance["dagster.port"] == "./daglab.yaml"
    assert loaded.config.dagster.host == "parent-host"  # parent file, deep-merged
    assert "parent folder" in loaded.provenance["dagster.host"]
    assert loaded.config.marimo.port == 2002
    assert "[tool.daglab]" in loaded.provenance["marimo.port"]
    assert loaded.config.performance.max_concurrent_runs == 9
    assert loaded.provenance["performance.max_concurrent_runs"].endswith("config.yaml")
    assert loaded.provenance["export.retention_days"] == "default"
    assert loaded.notebooks_dir == git_project / "nb"


def test_parent_search_stops_at_the_git_root(tmp_path: Path) -> None:
    write(tmp_path / "daglab.yaml", "dagster: {port: 4444}\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert load_config(start=repo).config.dagster.port == 3000


def test_url_wins_over_host_and_port(git_project: Path) -> None:
    write(
        git_project / "daglab.yaml",
        "dagster: {host: h, port: 1, url: 'https://acme.dagster.cloud/prod/'}\n",
    )
    dagster = load_config(start=git_project).config.dagster
    assert dagster.base_url == "https://acme.dagster.cloud/prod"
    assert dagster.graphql_url == "https://acme.dagster.cloud/prod/graphql"


def test_path_prefix_is_normalised(git_project: Path) -> None:
    write(git_project / "daglab.yaml", "dagster: {port: 3333, path_prefix: 'dagster/'}\n")
    assert load_config(start=git_project).config.dagster.graphql_url == (
        "http://localhost:3333/dagster/graphql"
    )


def test_unknown_key_names_file_line_and_closest_key(git_project: Path) -> None:
    path = write(git_project / "daglab.yaml", "dagster:\n  port: 3000\n  hots: x\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=git_project)
    error = info.value
    assert error.exit_code == ExitCode.VALIDATION
    assert str(path) in error.message
    assert "line 3" in error.message
    assert "dagster.hots" in error.message
    assert "did you mean 'dagster.host'" in error.message


def test_invalid_value_names_key_and_line(git_project: Path) -> None:
    write(git_project / "daglab.yaml", "marimo:\n  auto_save: true\n  port: not-a-port\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=git_project)
    assert "line 3" in info.value.message
    assert "marimo.port" in info.value.message
    assert info.value.details["line"] == 3


def test_malformed_yaml_names_the_line(git_project: Path) -> None:
    write(git_project / "daglab.yaml", "dagster:\n  port: 3000\n  host: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=git_project)
    assert "not valid YAML" in info.value.message
    assert info.value.details["line"] is not None


def test_non_mapping_yaml_is_refused(git_project: Path) -> None:
    write(git_project / "daglab.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(start=git_project)


def test_bad_environment_value_names_the_variable(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_MARIMO__PORT", "abc")
    with pytest.raises(ConfigError, match="DAGLAB_MARIMO__PORT"):
        load_config(start=git_project)


def test_unknown_environment_key_suggests(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_DAGSTER__PROT", "3001")
    with pytest.raises(ConfigError, match=r"did you mean 'dagster\.port'"):
        load_config(start=git_project)


def test_environment_lists_are_json(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGLAB_SECURITY__ALLOWED_OPERATIONS", '["launchRun"]')
    monkeypatch.setenv("DAGLAB_SECURITY__SANDBOX_MODE", "true")
    security = load_config(start=git_project).config.security
    assert security.allowed_operations == ["launchRun"]
    assert security.sandbox_mode is True


def test_pyproject_error_names_the_table(git_project: Path) -> None:
    write(
        git_project / "pyproject.toml",
        '[tool.dagster]\nmodule_name = "x"\n\n[tool.daglab]\nnotebook_dir = "nb"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(start=git_project)
    assert "[tool.daglab]" in info.value.message
    assert "did you mean 'notebooks_dir'" in info.value.message
    assert "line 5" in info.value.message


def test_unsupported_version(git_project: Path) -> None:
    write(git_project / "daglab.yaml", "version: 2\n")
    with pytest.raises(ConfigError, match="unsupported config version"):
        load_config(start=git_project)


def test_flatten_is_json_ready(git_project: Path) -> None:
    values = flatten(load_config(start=git_project).config)
    assert json.loads(json.dumps(values))["dagster.auth.type"] == "none"
    assert set(values) == set(leaf_paths())


PORT_KEYS = ("dagster.port", "marimo.port")
LAYERS = ("cli", "env", "cwd", "parent", "pyproject", "user")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    chosen=st.dictionaries(
        st.sampled_from(LAYERS),
        st.fixed_dictionaries(
            {},
            optional={k: st.integers(min_value=1, max_value=65535) for k in PORT_KEYS},
        ),
    )
)
def test_merge_property_highest_layer_that_sets_a_key_wins(
    chosen: dict[str, dict[str, int]],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path_factory.mktemp("prop")
    (root / ".git").mkdir()
    sub = root / "sub"
    sub.mkdir()
    home = tmp_path_factory.mktemp("prophome")
    monkeypatch.setenv("HOME", str(home))
    for key in PORT_KEYS:
        monkeypatch.delenv("DAGLAB_" + key.replace(".", "__").upper(), raising=False)

    def yaml_of(values: dict[str, int]) -> str:
        lines = []
        for key, value in values.items():
            section, leaf = key.split(".")
            lines.append(f"{section}:\n  {leaf}: {value}")
        return "\n".join(lines) + "\n"

    layer = chosen.get
    if layer("env"):
        for key, value in chosen["env"].items():
            monkeypatch.setenv("DAGLAB_" + key.replace(".", "__").upper(), str(value))
    if layer("cwd"):
        write(sub / "daglab.yaml", yaml_of(chosen["cwd"]))
    if layer("parent"):
        write(root / "daglab.yaml", yaml_of(chosen["parent"]))
    toml = '[tool.dagster]\nmodule_name = "x"\n'
    for key, value in (layer("pyproject") or {}).items():
        section, leaf = key.split(".")
        toml += f"[tool.daglab.{section}]\n{leaf} = {value}\n"
    write(root / "pyproject.toml", toml)
    if layer("user"):
        write(home / ".daglab" / "config.yaml", yaml_of(chosen["user"]))

    loaded = load_config(start=sub, overrides=dict(chosen.get("cli", {})))
    defaults = DaglabConfig()
    for key in PORT_KEYS:
        expected = next(
            (chosen[name][key] for name in LAYERS if key in chosen.get(name, {})),
            getattr(defaults, key.split(".")[0]).port,
        )
        section = getattr(loaded.config, key.split(".")[0])
        assert section.port == expected, (key, chosen)
