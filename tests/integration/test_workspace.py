"""``daglab workspace`` on a workspace made by the real ``create-dagster``, checked against the
real ``dg`` and a real ``dagster dev``; and ``daglab dev`` restarting its Dagster child when the
workspace file changes.

One workspace (two projects from ``create-dagster project``) is made per module; each test
works on its own copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import Result, run_daglab
from tests.dagster_server import _free_port, run_dagster_dev, stop_process_group

BIN = Path(sys.executable).parent


def tool(name: str, *args: str, cwd: Path, input: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        timeout=180,
        check=False,
        env={**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"},
    )
    assert done.returncode == 0, f"{name} {args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``create-dagster workspace`` with ``alpha`` and ``beta`` from ``create-dagster project``."""
    base = tmp_path_factory.mktemp("made")
    tool("create-dagster", "workspace", "ws", cwd=base, input="n\n")
    root = base / "ws"
    (root / ".git").mkdir()  # discovery stops here
    for name in ("alpha", "beta"):
        tool("create-dagster", "project", "--no-uv-sync", f"projects/{name}", cwd=root)
    return root


@pytest.fixture
def ws(made: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(made, tmp_path / "ws", symlinks=True))


def daglab(*args: str, cwd: Path) -> Result:
    return run_daglab("workspace", *args, cwd=cwd)


def as_json(result: Result) -> dict[str, object]:
    assert result.stdout.strip(), str(result)
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def problems(result: Result) -> list[dict[str, str]]:
    found = as_json(result)["problems"]
    assert isinstance(found, list)
    return found


def test_list_matches_dg_list_projects(ws: Path) -> None:
    (ws / "projects" / "beta" / "pyproject.toml").write_text(
        (ws / "projects" / "beta" / "pyproject.toml")
        .read_text()
        .replace('root_module = "beta"', 'root_module = "beta"\ncode_location_name = "bravo"')
    )
    listed = as_json(daglab("list", "--json", cwd=ws / "projects" / "alpha"))
    locations = listed["locations"]
    assert isinstance(locations, list)
    dg_paths = tool("dg", "list", "projects", cwd=ws).split()
    assert [loc["path"] for loc in locations] == dg_paths == ["projects/alpha", "projects/beta"]
    assert [loc["name"] for loc in locations] == ["alpha", "bravo"]
    table = daglab("list", cwd=ws)
    assert table.exit_code == 0 and "projects/alpha" in table.stdout and "bravo" in table.stdout


def test_validate_passes_on_a_fresh_workspace(ws: Path) -> None:
    result = daglab("validate", cwd=ws)
    assert result.exit_code == 0, str(result)
    assert "2 location(s), no problems" in result.stdout


def test_validate_missing_path(ws: Path) -> None:
    with (ws / "dg.toml").open("a") as handle:
        handle.write('\n[[workspace.projects]]\npath = "projects/gone"\n')
    result = daglab("validate", "--json", cwd=ws)
    assert result.exit_code == 7, str(result)
    found = problems(result)
    assert [(p["code"], p["location"]) for p in found] == [("missing-path", "gone")]
    assert "sync --prune" in found[0]["remediation"] or "edit dg.toml" in found[0]["remediation"]
    human = daglab("validate", cwd=ws)
    assert human.exit_code == 7 and "projects/gone does not exist" in human.stdout


def test_validate_unregistered_project(ws: Path) -> None:
    tool("create-dagster", "project", "--no-uv-sync", "projects/gamma", cwd=ws)
    # create-dagster registered it; a folder nobody registered is the drift
    (ws / "dg.toml").write_text(
        (ws / "dg.toml")
        .read_text()
        .replace('\n[[workspace.projects]]\npath = "projects/gamma"\n', "")
    )
    assert "projects/gamma" not in tool("dg", "list", "projects", cwd=ws)
    result = daglab("validate", "--json", cwd=ws)
    assert result.exit_code == 7, str(result)
    found = problems(result)
    assert [(p["code"], p["location"]) for p in found] == [("unregistered-project", "gamma")]
    assert "daglab workspace add projects/gamma" in found[0]["remediation"]


def test_validate_duplicate_names(ws: Path) -> None:
    pyproject = ws / "projects" / "beta" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'root_module = "beta"', 'root_module = "beta"\ncode_location_name = "alpha"'
        )
    )
    result = daglab("validate", "--json", "--no-schema", cwd=ws)
    assert result.exit_code == 7, str(result)
    assert [(p["code"], p["location"]) for p in problems(result)] == [("duplicate-name", "alpha")]


def test_validate_schema_rejected_workspace_yaml(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: etl\n      workdir: src\n"
    )
    result = daglab("validate", "--json", cwd=tmp_path)
    assert result.exit_code == 7, str(result)
    found = problems(result)
    assert [p["code"] for p in found] == ["schema"]
    assert "workdir" in found[0]["message"] and found[0]["remediation"]
    # the same check is what `dagster` itself says about the file
    done = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "workdir" in done.stdout + done.stderr


def test_sync_is_idempotent_and_prunes(ws: Path) -> None:
    original = (ws / "dg.toml").read_bytes()
    shutil.copytree(ws / "projects" / "alpha", ws / "projects" / "delta")
    first = daglab("sync", cwd=ws)
    assert first.exit_code == 0, str(first)
    assert "register projects/delta as delta" in first.stdout.lower()
    assert "dagster dev" in first.stdout and "restart" in first.stdout
    after = (ws / "dg.toml").read_bytes()
    assert after.startswith(original)
    assert "projects/delta" in tool("dg", "list", "projects", cwd=ws).split()
    second = daglab("sync", cwd=ws)
    assert second.exit_code == 0 and "Nothing to change" in second.stdout
    assert (ws / "dg.toml").read_bytes() == after
    assert daglab("validate", cwd=ws).exit_code == 0
    shutil.rmtree(ws / "projects" / "delta")
    assert daglab("sync", cwd=ws).exit_code == 0
    assert (ws / "dg.toml").read_bytes() == after  # without --prune nothing is dropped
    pruned = daglab("sync", "--prune", cwd=ws)
    assert pruned.exit_code == 0 and "Remove delta" in pruned.stdout
    assert (ws / "dg.toml").read_bytes() == original


def test_remove_leaves_the_rest_byte_identical(ws: Path) -> None:
    original = (ws / "dg.toml").read_text()
    shutil.copytree(ws / "projects" / "alpha", ws / "projects" / "delta")
    assert daglab("add", "projects/delta", cwd=ws).exit_code == 0
    added = daglab("add", "--grpc", "localhost:4999", "--name", "feeds", cwd=ws)
    assert added.exit_code == 0, str(added)
    delta = '\n# daglab:begin delta\n[[workspace.projects]]\npath = "projects/delta"\n'
    delta += "# daglab:end delta\n"
    feeds = "\n# daglab:begin feeds\n# daglab:grpc host=localhost port=4999\n# daglab:end feeds\n"
    assert (ws / "dg.toml").read_text() == original + delta + feeds
    assert tool("dg", "list", "projects", cwd=ws).split()[-1] == "projects/delta"
    preview = daglab("remove", "delta", "--dry-run", cwd=ws)
    assert preview.exit_code == 0 and '-path = "projects/delta"' in preview.stdout
    assert (ws / "dg.toml").read_text() == original + delta + feeds
    removed = daglab("remove", "delta", cwd=ws)
    assert removed.exit_code == 0 and "must be restarted" in removed.stdout
    assert (ws / "dg.toml").read_text() == original + feeds
    assert daglab("remove", "feeds", cwd=ws).exit_code == 0
    assert (ws / "dg.toml").read_text() == original
    refused = daglab("remove", "alpha", cwd=ws)
    assert refused.exit_code == 8, str(refused)
    assert "did not write" in refused.stderr and "by hand" in refused.stderr
    assert (ws / "dg.toml").read_text() == original


def test_a_failing_write_rolls_back_byte_identical(ws: Path) -> None:
    # a dg.toml listing its projects as an inline array is valid (dg reads it), but a
    # [[workspace.projects]] table appended to it is not TOML: the write must be undone
    (ws / "dg.toml").write_text(
        'directory_type = "workspace"\n\n[workspace]\n'
        'projects = [{ path = "projects/alpha" }]  # kept short\n'
    )
    assert tool("dg", "list", "projects", cwd=ws).split() == ["projects/alpha"]
    original = (ws / "dg.toml").read_bytes()
    result = daglab("add", "projects/beta", cwd=ws)
    assert result.exit_code == 7, str(result)
    assert "original is restored" in result.stderr
    assert (ws / "dg.toml").read_bytes() == original
    backups = list((ws / ".daglab" / "backups").iterdir())
    assert [p.read_bytes() for p in backups] == [original]


def test_restore_lists_and_brings_back_a_backup(ws: Path) -> None:
    original = (ws / "dg.toml").read_bytes()
    assert daglab("add", "--grpc", "localhost:4998", cwd=ws).exit_code == 0
    listed = as_json(daglab("restore", "--json", cwd=ws))["backups"]
    assert isinstance(listed, list) and len(listed) == 1
    name = Path(listed[0]).name
    assert name in daglab("restore", cwd=ws).stdout
    restored = daglab("restore", name, cwd=ws)
    assert restored.exit_code == 0, str(restored)
    assert (ws / "dg.toml").read_bytes() == original
    assert daglab("restore", "no-such-backup", cwd=ws).exit_code == 7


def test_validate_load_reports_the_broken_location(ws: Path) -> None:
    broken = ws / "projects" / "beta" / "src" / "beta" / "defs" / "broken.py"
    broken.write_text("raise RuntimeError('beta is broken')\n")
    result = daglab("validate", "--load", "--json", cwd=ws)
    assert result.exit_code == 7, str(result)
    found = problems(result)
    assert [(p["code"], p["location"]) for p in found] == [("load-failed", "beta")]
    assert "beta is broken" in found[0]["message"]


@contextlib.contextmanager
def code_server(ws: Path, project: str, port: int) -> Iterator[None]:
    """``dagster api grpc`` serving ``project`` on ``port``, stopped (by pid) afterwards."""
    proc = subprocess.Popen(
        [
            str(BIN / "dagster"),
            "api",
            "grpc",
            "-m",
            f"{project}.definitions",
            "-d",
            str(ws / "projects" / project / "src"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ws,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "the code server exited"
            time.sleep(0.3)
        yield
    finally:
        stop_process_group(proc)


def test_export_is_served_by_dagster_dev_with_every_location_loaded(
    ws: Path, tmp_path: Path
) -> None:
    # alpha gets an environment of its own: export writes its interpreter as executable_path
    venv = ws / "projects" / "alpha" / ".venv"
    subprocess.run(["uv", "venv", "-q", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "-e",
            str(ws / "projects" / "alpha"),
        ],
        check=True,
        timeout=300,
    )
    port = _free_port()
    assert daglab("add", "--grpc", f"127.0.0.1:{port}", "--name", "feeds", cwd=ws).exit_code == 0
    exported = daglab("export", cwd=ws)
    assert exported.exit_code == 0, str(exported)
    import yaml

    entries = yaml.safe_load((ws / "workspace.yaml").read_text())["load_from"]
    assert entries[0]["python_module"]["executable_path"] == str(venv / "bin" / "python")
    assert "executable_path" not in entries[1]["python_module"]
    assert entries[2] == {
        "grpc_server": {"host": "127.0.0.1", "port": port, "location_name": "feeds"}
    }
    again = daglab("export", cwd=ws)  # daglab's own file: rewritten, unchanged
    assert again.exit_code == 0 and "up to date" in again.stdout
    with (
        code_server(ws, "beta", port),
        run_dagster_dev(tmp_path / "dev", project_dir=ws) as server,
    ):
        from tests.dagster_server import WORKSPACE_QUERY, graphql

        body = graphql(server, WORKSPACE_QUERY)
        entries = body["data"]["workspaceOrError"]["locationEntries"]
        states = {
            e["name"]: (e["loadStatus"], e["locationOrLoadError"]["__typename"]) for e in entries
        }
        assert states == dict.fromkeys(("alpha", "beta", "feeds"), ("LOADED", "RepositoryLocation"))
        # alpha's code server runs under alpha's own interpreter
        pythons = {
            " ".join(p.cmdline()[:1])
            for p in psutil.Process(server.pid).children(recursive=True)
            if "alpha" in " ".join(p.cmdline())
        }
        assert str(venv / "bin" / "python") in pythons


# --------------------------------------------------------------------------- daglab dev


class Events:
    """A sink that records what the supervisor says."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ready_seen = threading.Event()

    def line(self, service: str, text: str) -> None:
        pass

    def event(self, text: str, level: str = "info") -> None:
        self.lines.append(text)

    def ready(self, urls: object, elapsed: float) -> None:
        self.ready_seen.set()

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {text!r} in {self.lines}"
            time.sleep(0.1)


def test_dev_restarts_dagster_when_the_workspace_file_changes(tmp_path: Path) -> None:
    from daglab._sidecar import DevOptions, DevPlan, ServiceSpec, run_dev

    watched = tmp_path / "workspace.yaml"
    watched.write_text("load_from: []\n")
    (tmp_path / ".daglab").mkdir()

    def spec(name: str) -> ServiceSpec:
        port = _free_port()
        argv = (sys.executable, "-m", "http.server", "-b", "127.0.0.1", str(port))
        return ServiceSpec(
            name=name,
            label=f"{name} server",
            argv=argv,
            env=dict(os.environ),
            cwd=tmp_path,
            host="127.0.0.1",
            port=port,
            stop_signal=int(signal.SIGINT),
            ready_path="/",
        )

    plan = DevPlan(
        root=tmp_path,
        notebook=tmp_path / "nb.py",
        dagster=spec("dagster"),
        marimo=spec("marimo"),
        token=None,
        options=DevOptions(grace=5.0),
        open_browser=False,
        log_file=None,
        watch=(watched,),
    )
    events = Events()
    pids: list[int] = []

    def last_dagster_pid() -> int:
        data = json.loads((tmp_path / ".daglab" / "last_ports.json").read_text())
        pid: int = data["dagster"]["pid"]
        return pid

    def drive() -> None:
        try:
            assert events.ready_seen.wait(60)
            pids.append(last_dagster_pid())
            os.utime(watched)  # touched, same bytes: no restart
            time.sleep(1.0)
            watched.write_text("load_from: []\n# changed\n")
            events.wait_for("is back at")
            pids.append(last_dagster_pid())
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    driver = threading.Thread(target=drive)
    driver.start()
    run_dev(plan, events)
    driver.join()
    restarts = [line for line in events.lines if "changed: restarting" in line]
    assert restarts == ["workspace.yaml changed: restarting dagster server"], events.lines
    assert sum("marimo server answers" in line for line in events.lines) == 1
    assert len(pids) == 2 and pids[0] != pids[1]
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == "zombie"
    assert not psutil.pid_exists(pids[1]) or psutil.Process(pids[1]).status() == "zombie"


def test_dev_serves_the_projects_workspace_yaml_with_w(tmp_path: Path) -> None:
    from daglab._config import load_config
    from daglab._sidecar import DevOptions, build_plan

    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.dagster]\nmodule_name = "shop.definitions"\n'
    )
    (tmp_path / "workspace.yaml").write_text("load_from:\n  - python_module: shop.definitions\n")
    (tmp_path / "nb.py").write_text("")
    plan = build_plan(load_config(start=tmp_path), tmp_path / "nb.py", DevOptions())
    argv = list(plan.dagster.argv)
    assert argv[argv.index("-w") + 1] == str(tmp_path / "workspace.yaml")
    assert plan.watch == (tmp_path / "workspace.yaml",)
