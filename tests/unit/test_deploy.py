"""``daglab deploy configure`` on a hand-made dg workspace (fast): names and paths refused,
ports assigned and kept, helm's merge, the files daglab owns, --dry-run and --json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from daglab._deploy import Options, _helm, configure
from daglab._errors import ConflictError, EnvironmentMissingError, UsageError, ValidationError
from tests.conftest import make_dg_project


def make_workspace(root: Path, *names: str, meta: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    entries = "".join(f'\n[[workspace.projects]]\npath = "projects/{n}"\n' for n in names)
    (root / "dg.toml").write_text(f'directory_type = "workspace"\n\n[workspace]\n{entries}')
    for name in names:
        project = make_dg_project(root / "projects" / name, package=name)
        if meta and name in meta:
            with (project / "pyproject.toml").open("a") as handle:
                handle.write(f'\n[tool.daglab.module]\ntemplate = "standard"\n{meta[name]}\n')
    return root


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(
        tmp_path / "ws",
        "alpha",
        "beta",
        "gamma",
        meta={"alpha": 'port = 4001\nenv = ["ALPHA_POSTGRES_URL"]'},
    )


@pytest.mark.parametrize("target", ["../x", "a/b", "", "A B", "x\nExecStart=/bin/sh", "-x", "é"])
def test_hostile_target_names_are_refused(ws: Path, target: str) -> None:
    with pytest.raises(ValidationError):
        configure(ws, target, "git")
    assert not (ws / "deploy").exists()


@pytest.mark.parametrize(
    "options",
    [
        Options(install_root="relative/path"),
        Options(install_root="/opt/$(id)"),
        Options(install_root="/opt/a%n"),
        Options(install_root="/opt/../etc"),
        Options(install_root="/opt/a b"),
        Options(venv="/opt/x\nExecStartPre=/bin/sh"),
        Options(env_dir="/etc/./x"),
        Options(user="root;rm"),
        Options(registry="ghcr.io/Acme Corp"),
        Options(image_tag="1.0 --set x=y"),
    ],
)
def test_hostile_options_are_refused(ws: Path, options: Options) -> None:
    with pytest.raises(ValidationError):
        configure(ws, "prod", "git", options=options)
    assert not (ws / "deploy").exists()


def test_unknown_strategy_and_bad_ports_are_usage_errors(ws: Path) -> None:
    with pytest.raises(UsageError):
        configure(ws, "prod", "ftp")
    with pytest.raises(UsageError):
        configure(ws, "prod", "git", options=Options(base_port=80))


def test_a_hostile_location_name_is_refused(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", "alpha")
    with (root / "projects/alpha/pyproject.toml").open("a") as handle:
        handle.write('code_location_name = "a b\\nExecStart=/bin/sh"\n')
    with pytest.raises(ValidationError, match="location name"):
        configure(root, "prod", "git")


def test_no_workspace_is_an_environment_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(EnvironmentMissingError):
        configure(tmp_path, "prod", "helm")


def test_ports_come_from_modules_else_from_the_base_and_are_kept(ws: Path) -> None:
    plan = configure(ws, "prod", "rsync", options=Options(base_port=4001))
    ports = {loc.name: (loc.port, loc.port_source) for loc in plan.locations}
    assert ports == {
        "alpha": (4001, "module"),
        "beta": (4002, "assigned"),
        "gamma": (4003, "assigned"),
    }
    # a new project sorted before the others does not move their ports
    make_dg_project(ws / "projects" / "aaa", package="aaa")
    text = (ws / "dg.toml").read_text() + '\n[[workspace.projects]]\npath = "projects/aaa"\n'
    (ws / "dg.toml").write_text(text)
    again = configure(ws, "prod", "rsync", options=Options(base_port=4001))
    ports = {loc.name: loc.port for loc in again.locations}
    assert ports == {"aaa": 4004, "alpha": 4001, "beta": 4002, "gamma": 4003}


def test_two_modules_recording_one_port_are_refused(tmp_path: Path) -> None:
    root = make_workspace(
        tmp_path / "ws", "alpha", "beta", meta={"alpha": "port = 4001", "beta": "port = 4001"}
    )
    with pytest.raises(ValidationError, match="port 4001"):
        configure(root, "prod", "helm")


def test_helm_merges_maps_and_replaces_lists() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "l": [{"name": "default"}], "k": 1}
    over = {"a": {"y": [3]}, "l": [{"name": "mine"}], "k": None}
    assert _helm.helm_merge(base, over) == {"a": {"x": 1, "y": [3]}, "l": [{"name": "mine"}]}


def test_remote_kubernetes_references_resolve_offline() -> None:
    registry = _helm._stub_registry(_helm.chart_schema())
    uri = "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"
    resolved = registry.resolver().lookup(f"{uri}#/definitions/io.k8s.api.core.v1.Affinity")
    assert resolved.contents == {}


def test_a_second_run_changes_nothing_and_a_users_file_is_kept(ws: Path) -> None:
    first = configure(ws, "prod", "git")
    assert {item.action for item in first.files} == {"created"}
    script = ws / "deploy/prod/deploy.sh"
    assert script.stat().st_mode & 0o111
    manifest = json.loads((ws / ".daglab/manifest.json").read_text())
    assert "deploy/prod/deploy.sh" in manifest["files"]
    second = configure(ws, "prod", "git")
    assert not second.changed
    unit = ws / "deploy/prod/systemd/daglab-prod-webserver.service"
    unit.write_text(unit.read_text() + "# mine\n")
    with pytest.raises(ConflictError):
        configure(ws, "prod", "git", options=Options(webserver_port=3001))
    assert unit.read_text().endswith("# mine\n")
    assert "-p 3000" in unit.read_text()
    forced = configure(ws, "prod", "git", options=Options(webserver_port=3001), force=True)
    assert "-p 3001" in unit.read_text()
    assert {i.path.name for i in forced.files if i.action == "overwritten"} == {unit.name}


def test_an_existing_dagster_cloud_yaml_is_not_overwritten(ws: Path) -> None:
    (ws / "dagster_cloud.yaml").write_text("locations: []\n")
    with pytest.raises(ConflictError):
        configure(ws, "prod", "plus-serverless")
    assert (ws / "dagster_cloud.yaml").read_text() == "locations: []\n"


def test_dry_run_writes_nothing(ws: Path) -> None:
    plan = configure(ws, "prod", "helm", dry_run=True)
    assert [item.action for item in plan.files] == ["created"]
    assert "deployments:" in plan.files[0].content
    assert not (ws / "deploy").exists() and not (ws / ".daglab").exists()


def test_no_value_of_an_environment_variable_is_written(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_POSTGRES_URL", "postgresql://u:hunter2@db/alpha")
    for strategy, target in (("plus-hybrid", "a"), ("helm", "b"), ("git", "c")):
        configure(ws, target, strategy)
    written = [p for p in ws.rglob("*") if p.is_file() and ".daglab" not in p.parts]
    texts = "\n".join(p.read_text() for p in written)
    assert "ALPHA_POSTGRES_URL" in texts and "hunter2" not in texts


def test_cloud_check_is_reported_skipped_without_dagster_cloud_cli(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dagster_cloud_cli.config.models", None)
    plan = configure(ws, "prod", "plus-serverless", dry_run=True)
    assert [check.status for check in plan.checks] == ["skipped"]
    assert "not checked" in plan.checks[0].detail


def test_cli_json_is_data(ws: Path, cli: object) -> None:
    result = cli("deploy", "configure", "--target", "k8s", "--strategy", "helm", "--json", cwd=ws)  # type: ignore[operator]
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert data["strategy"] == "helm" and data["changed"] is True
    assert [f["path"] for f in data["files"]] == ["deploy/k8s/values.yaml"]
    assert data["checks"][0]["status"] == "ok"
    values = yaml.safe_load((ws / "deploy/k8s/values.yaml").read_text())
    assert [d["name"] for d in values["deployments"]] == ["alpha", "beta", "gamma"]


def test_cli_refuses_a_hostile_target_with_exit_7(ws: Path, cli: object) -> None:
    result = cli("deploy", "configure", "--target", "../../etc", "--strategy", "git", cwd=ws)  # type: ignore[operator]
    assert result.exit_code == 7, result
    assert not (ws / "deploy").exists()


def test_files_no_longer_generated_are_removed_unless_edited(ws: Path) -> None:
    configure(ws, "prod", "git")
    units = ws / "deploy/prod/systemd"
    beta, gamma = units / "daglab-prod-code-beta.service", units / "daglab-prod-code-gamma.service"
    gamma.write_text(gamma.read_text() + "# tuned by hand\n")
    text = (ws / "dg.toml").read_text()
    for name in ("beta", "gamma"):
        text = text.replace(f'\n[[workspace.projects]]\npath = "projects/{name}"\n', "")
    (ws / "dg.toml").write_text(text)
    plan = configure(ws, "prod", "git")
    assert [i.path for i in plan.files if i.action == "removed"] == [beta]
    assert not beta.exists() and gamma.exists()
    assert any("daglab-prod-code-gamma.service" in note for note in plan.notes)
    assert (
        "deploy/prod/systemd/daglab-prod-code-beta.service"
        not in json.loads((ws / ".daglab/manifest.json").read_text())["files"]
    )
    assert not configure(ws, "prod", "git").changed


def test_a_deploy_folder_linked_outside_the_workspace_is_refused(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "deploy").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValidationError):
        configure(ws, "prod", "helm")
    assert list(outside.iterdir()) == []


def test_units_run_as_the_named_user_and_bind_where_told(ws: Path) -> None:
    options = Options(user="dagster", webserver_host="0.0.0.0", webserver_port=8080)
    plan = configure(ws, "prod", "rsync", options=options, dry_run=True)
    units = {i.path.name: i.content for i in plan.files if i.kind == "systemd-unit"}
    assert all("\nUser=dagster\n" in text for text in units.values())
    assert "-h 0.0.0.0 -p 8080" in units["daglab-prod-webserver.service"]
    alpha = units["daglab-prod-code-alpha.service"]
    assert "EnvironmentFile=/etc/daglab/prod/alpha.env\n" in alpha
    assert "EnvironmentFile=-/etc/daglab/prod/beta.env\n" in units["daglab-prod-code-beta.service"]
    assert "--host 127.0.0.1 --port 4001" in alpha
    assert any("no login of its own" in note for note in plan.notes)
