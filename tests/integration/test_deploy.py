"""``daglab deploy configure`` against a real workspace made by ``create-dagster``.

Each file is checked by what will read it: ``dagster_cloud.yaml`` by dagster-cloud-cli's own
model, Helm values by the chart's schema, the self-hosted deployment by deploying it (a
``file://`` bare repository for git, local rsync), starting its code servers exactly as the
units' ``ExecStart=`` says, and loading them through the server-side workspace.yaml with
``dagster definitions validate``; scripts by ``bash -n`` and shellcheck, units by
``systemd-analyze verify``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.conftest import Result, run_daglab
from tests.dagster_server import _free_port, stop_process_group

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SECRET = "postgresql://deploy:s3cr3t-value@127.0.0.1:5432/alpha"
ASSET = (
    "import dagster as dg\n\n\n@dg.asset\ndef {name}_numbers() -> list[int]:\n    return [1, 2]\n"
)


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _git(*args: str, cwd: Path) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    return _run("git", *args, cwd=cwd, env=env)


def _free_ports(count: int) -> int:
    """A base port with ``count`` consecutive free ports on loopback."""
    for _ in range(50):
        base = _free_port("127.0.0.1")
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free ports")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``create-dagster workspace`` with two ``create-dagster project``s, each with an asset;
    alpha records daglab module metadata (a port and an environment variable name)."""
    top = tmp_path_factory.mktemp("deploy")
    _run(str(BIN / "create-dagster"), "workspace", "ws", "--no-uv-sync", cwd=top)
    root = top / "ws"
    for name in ("alpha", "beta"):
        _run(str(BIN / "create-dagster"), "project", f"projects/{name}", "--no-uv-sync", cwd=root)
        (root / "projects" / name / "src" / name / "defs" / "assets.py").write_text(
            ASSET.format(name=name)
        )
    with (root / "projects" / "alpha" / "pyproject.toml").open("a") as handle:
        handle.write(
            '\n[tool.daglab.module]\ntemplate = "standard"\naddons = ["postgres"]\n'
            f'port = {_free_ports(1)}\nenv = ["ALPHA_POSTGRES_URL"]\n'
        )
    _git("init", "-q", "-b", "main", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-qm", "workspace", cwd=root)
    return root


def daglab(*args: str, cwd: Path) -> Result:
    result = run_daglab("deploy", "configure", *args, cwd=cwd)
    assert result.exit_code == 0, str(result)
    return result


def test_dagster_cloud_yaml_passes_dagster_cloud_cli(workspace: Path) -> None:
    from dagster_cloud_cli.config.models import load_dagster_cloud_yaml

    for strategy in ("plus-serverless", "plus-hybrid"):
        result = daglab("--target", "cloud", "--strategy", strategy, cwd=workspace)
        assert "dg plus deploy configure" in result.stdout
        assert "passes dagster-cloud-cli's DagsterCloudYaml model" in result.stdout
        text = (workspace / "dagster_cloud.yaml").read_text()
        parsed = load_dagster_cloud_yaml(text)  # the model dagster-cloud-cli itself uses
        by_name = {location.location_name: location for location in parsed.locations}
        assert sorted(by_name) == ["alpha", "beta"]
        alpha = by_name["alpha"]
        assert alpha.code_source is not None
        assert alpha.code_source.module_name == "alpha.definitions"
        assert alpha.build is not None and alpha.build.directory == "projects/alpha"
        assert (workspace / "projects/alpha" / alpha.working_directory / "alpha").is_dir()
        if strategy == "plus-hybrid":
            assert alpha.container_context is not None
            env = alpha.container_context["k8s"]["server_k8s_config"]["container_config"]["env"]
            assert env == [
                {
                    "name": "ALPHA_POSTGRES_URL",
                    "valueFrom": {
                        "secretKeyRef": {"name": "alpha-env", "key": "ALPHA_POSTGRES_URL"}
                    },
                }
            ]
            assert by_name["beta"].container_context is None
    # the same again changes nothing
    again = daglab("--target", "cloud", "--strategy", "plus-hybrid", cwd=workspace)
    assert "Nothing changed" in again.stdout


def test_helm_values_pass_the_chart_schema_and_a_planted_bad_value_fails(workspace: Path) -> None:
    from daglab._deploy import _helm

    daglab(
        "--target",
        "k8s",
        "--strategy",
        "helm",
        "--registry",
        "ghcr.io/acme",
        "--image-tag",
        "1.0.0",
        cwd=workspace,
    )
    values = yaml.safe_load((workspace / "deploy/k8s/values.yaml").read_text())
    assert _helm.problems(values) == []
    alpha = next(d for d in values["deployments"] if d["name"] == "alpha")
    assert alpha["image"] == {
        "repository": "ghcr.io/acme/alpha",
        "tag": "1.0.0",
        "pullPolicy": "Always",
    }
    assert alpha["dagsterApiGrpcArgs"] == ["-m", "alpha.definitions", "-d", "src"]
    assert alpha["env"][0]["valueFrom"]["secretKeyRef"] == {
        "name": "alpha-env",
        "key": "ALPHA_POSTGRES_URL",
    }
    # the chart's own defaults pass its schema (the vendored pair belongs together)
    assert _helm.problems({}) == []
    bad = yaml.safe_load((workspace / "deploy/k8s/values.yaml").read_text())
    bad["deployments"][0]["port"] = "4000"
    bad["deployments"][1]["image"]["pullPolicy"] = "Sometimes"
    found = _helm.problems(bad)
    assert any("deployments/0/port" in item for item in found), found
    assert any("pullPolicy" in item for item in found), found
    del bad["deployments"][1]["image"]
    assert any("'image' is a required property" in item for item in _helm.problems(bad))


def _units(folder: Path) -> dict[str, dict[str, str]]:
    units = {}
    for path in sorted((folder / "systemd").glob("*.service")):
        fields: dict[str, str] = {}
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                fields.setdefault(key, value)
        units[path.name] = fields
    return units


def _check_files(folder: Path) -> None:
    script = folder / "deploy.sh"
    assert os.access(script, os.X_OK)
    _run("bash", "-n", str(script), cwd=folder)
    _run(shutil.which("shellcheck") or "/usr/bin/shellcheck", str(script), cwd=folder)
    units = sorted(str(path) for path in (folder / "systemd").glob("*.service"))
    assert len(units) == 4
    proc = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    text = "\n".join(path.read_text() for path in folder.rglob("*") if path.is_file())
    assert "ALPHA_POSTGRES_URL" in text and "s3cr3t" not in text


@contextmanager
def _code_servers(folder: Path, env_dir: Path) -> Iterator[list[int]]:
    """Every code-server unit's ExecStart, run as written (WorkingDirectory, DAGSTER_HOME and its
    EnvironmentFile applied); stopped by pid afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    ports = []
    logs = []
    try:
        for name, fields in _units(folder).items():
            if "-code-" not in name:
                continue
            argv = shlex.split(fields["ExecStart"])
            env = dict(os.environ)
            env.update(dict([fields["Environment"].split("=", 1)]))
            env_file = Path(fields["EnvironmentFile"].lstrip("-"))
            assert env_file.parent == env_dir
            if env_file.is_file():
                for line in env_file.read_text().splitlines():
                    key, _, value = line.partition("=")
                    env[key] = value
            log = (folder / f"{name}.log").open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    argv,
                    cwd=fields["WorkingDirectory"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            ports.append(int(argv[argv.index("--port") + 1]))
        deadline = time.monotonic() + 90
        for port, proc, log in zip(ports, procs, logs, strict=True):
            while True:
                if proc.poll() is not None:
                    log.flush()
                    text = Path(log.name).read_text(errors="replace")
                    raise AssertionError(f"code server on {port} exited:\n{text}")
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                assert time.monotonic() < deadline, f"code server on {port} never listened"
                time.sleep(0.3)
        yield ports
    finally:
        for proc in procs:
            stop_process_group(proc)
        for log in logs:
            log.close()


def _validate(workspace_yaml: Path, dagster_home: Path) -> str:
    return _run(
        str(BIN / "dagster"),
        "definitions",
        "validate",
        "-w",
        str(workspace_yaml),
        cwd=workspace_yaml.parent,
        env={"DAGSTER_HOME": str(dagster_home)},
    )


def _server_options(server: Path, base_port: int) -> tuple[str, ...]:
    return (
        "--install-root",
        str(server / "app"),
        "--venv",
        sys.prefix,
        "--env-dir",
        str(server / "env"),
        "--dagster-home",
        str(server / "home"),
        "--base-port",
        str(base_port),
    )


def _prepare_server(server: Path) -> None:
    """What ``deploy.sh install`` prepares besides installing packages: the instance's storage
    (made once, as the script does, before the services start) and the env file (by hand)."""
    (server / "env").mkdir(parents=True)
    (server / "home").mkdir()
    (server / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    _run(
        str(BIN / "dagster"),
        "instance",
        "migrate",
        cwd=server,
        env={"DAGSTER_HOME": str(server / "home")},
    )
    (server / "env" / "alpha.env").write_text(f"ALPHA_POSTGRES_URL={SECRET}\n")


def _deployed(server: Path, target: str) -> None:
    """The copy on the server serves every location through its workspace.yaml."""
    folder = server / "app" / "deploy" / target
    _check_files(folder)
    spec = yaml.safe_load((folder / "workspace.yaml").read_text())
    names = sorted(entry["grpc_server"]["location_name"] for entry in spec["load_from"])
    assert names == ["alpha", "beta"]
    with _code_servers(folder, server / "env") as ports:
        assert sorted(ports) == sorted(e["grpc_server"]["port"] for e in spec["load_from"])
        output = _validate(folder / "workspace.yaml", server / "home")
    for name in ("alpha", "beta"):
        assert f"Validation successful for code location {name}." in output, output


def test_git_deployment_serves_every_location(workspace: Path, tmp_path: Path) -> None:
    server = tmp_path / "server"
    _prepare_server(server)
    options = _server_options(server, _free_ports(3))
    daglab("--target", "box", "--strategy", "git", *options, cwd=workspace)
    again = daglab("--target", "box", "--strategy", "git", *options, cwd=workspace)
    assert "Nothing changed" in again.stdout
    _git("add", "-A", cwd=workspace)
    _git("commit", "-qm", "deploy box", cwd=workspace)
    remote = tmp_path / "remote.git"
    _git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    script = workspace / "deploy" / "box" / "deploy.sh"
    _git_env = {"GIT_CONFIG_GLOBAL": "/dev/null"}
    _run(str(script), "push", "--remote", f"file://{remote}", cwd=workspace, env=_git_env)
    _run(
        str(script),
        "pull",
        "--no-install",
        cwd=tmp_path,
        env={**_git_env, "DAGLAB_DEPLOY_REMOTE": f"file://{remote}"},
    )
    assert (server / "app" / ".git").is_dir()
    # a second deployment fast-forwards the server's checkout
    (workspace / "NOTES.md").write_text("second deployment\n")
    _git("add", "NOTES.md", cwd=workspace)
    _git("commit", "-qm", "notes", cwd=workspace)
    _run(
        str(script),
        "push",
        cwd=workspace,
        env={**_git_env, "DAGLAB_DEPLOY_REMOTE": f"file://{remote}"},
    )
    _run(
        str(server / "app" / "deploy" / "box" / "deploy.sh"),
        "pull",
        "--remote",
        f"file://{remote}",
        "--no-install",
        cwd=tmp_path,
        env=_git_env,
    )
    assert (server / "app" / "NOTES.md").read_text() == "second deployment\n"
    _deployed(server, "box")


def test_rsync_deployment_serves_every_location(workspace: Path, tmp_path: Path) -> None:
    server = tmp_path / "server"
    _prepare_server(server)
    secrets = workspace / ".env"
    secrets.write_text(f"ALPHA_POSTGRES_URL={SECRET}\n")  # must never travel
    try:
        _rsync(workspace, server)
    finally:
        secrets.unlink()


def _rsync(workspace: Path, server: Path) -> None:
    options = _server_options(server, _free_ports(3))
    result = daglab("--target", "copy", "--strategy", "rsync", "--dry-run", *options, cwd=workspace)
    assert "would be" in result.stdout and not (workspace / "deploy" / "copy").exists()
    daglab("--target", "copy", "--strategy", "rsync", *options, cwd=workspace)
    script = workspace / "deploy" / "copy" / "deploy.sh"
    _run(str(script), "push", "--dest", str(server / "app"), cwd=server)
    assert not (server / "app" / ".env").exists()
    assert not (server / "app" / ".git").exists()
    _deployed(server, "copy")
