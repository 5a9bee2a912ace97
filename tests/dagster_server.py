"""Pytest plugin: one real ``dagster dev`` server for the whole test session.

Load it from ``tests/conftest.py`` with ``pytest_plugins = ["tests.dagster_server"]`` and request
the session-scoped ``dagster_server`` fixture. The server serves the sample project in
``tests/fixtures/sample_dagster_project`` (code location ``sample_location``) from a throw-away
``DAGSTER_HOME``; nothing in the test process's own environment is changed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

__all__ = [
    "LOCATION_NAME",
    "PROJECT_DIR",
    "REPOSITORY_NAME",
    "DagsterServer",
    "dagster_server",
    "graphql",
    "shop_server",
]

PROJECT_DIR = Path(__file__).resolve().parent / "fixtures" / "sample_dagster_project"
WORKSPACE_FILE = PROJECT_DIR / "workspace.yaml"
LOCATION_NAME = "sample_location"
REPOSITORY_NAME = "__repository__"

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 120.0
POLL_INTERVAL = 0.5
# SIGINT is what `dagster dev` expects (it relays shutdown to the webserver and daemon through
# pipes and waits for them); SIGTERM and SIGKILL are the fallbacks.
STOP_STEPS: tuple[tuple[signal.Signals, float], ...] = (
    (signal.SIGINT, 15.0),
    (signal.SIGTERM, 10.0),
    (signal.SIGKILL, 10.0),
)
LOG_TAIL_CHARS = 4000

WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

# A process that inherits SIGINT as *ignored* (e.g. pytest launched as a background job of a
# non-interactive shell) never gets Python's KeyboardInterrupt handler, and Dagster then maps
# SIGTERM onto that same "ignore" disposition - leaving SIGKILL as the only way to stop it.
# Reset both to the default before exec'ing `dagster dev`, so the graceful path always works.
_EXEC_DAGSTER_DEV = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'dagster', 'dev', *sys.argv[1:]])\n"
)


@dataclass(frozen=True)
class DagsterServer:
    """A running ``dagster dev`` started by the ``dagster_server`` fixture."""

    url: str
    graphql_url: str
    port: int
    host: str
    dagster_home: Path
    pid: int
    log_path: Path
    project_dir: Path


def graphql(
    server: DagsterServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """POST ``query`` to the server's ``/graphql`` endpoint and return the decoded JSON body.

    The body is returned whatever the HTTP status (Dagster answers schema errors with 400 and an
    ``errors`` list); a body that is not a JSON object raises ``RuntimeError``.
    """
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = httpx.post(server.graphql_url, json=payload, timeout=timeout)
    try:
        body = response.json()
    except ValueError as exc:
        raise RuntimeError(
            f"non-JSON answer from {server.graphql_url} (HTTP {response.status_code}): "
            f"{response.text[:500]!r}"
        ) from exc
    if not isinstance(body, dict):
        raise RuntimeError(f"unexpected GraphQL answer from {server.graphql_url}: {body!r}")
    return body


def _free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _write_dagster_yaml(dagster_home: Path) -> None:
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def _child_env(dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home)
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _log_tail(log_path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<could not read {log_path}: {exc}>"
    return text[-chars:]


class _LocationLoadError(RuntimeError):
    """A code location finished loading with an error; waiting longer will not help."""


def _locations_loaded(
    body: dict[str, Any], may_fail: frozenset[str] = frozenset()
) -> tuple[bool, str]:
    """Whether every code location in a workspace answer is loaded, and a short status.

    Raises ``_LocationLoadError`` when a location has finished loading with a ``PythonError``,
    unless it is one of ``may_fail`` (a fixture's deliberately broken location).
    """
    workspace = (body.get("data") or {}).get("workspaceOrError") or {}
    if workspace.get("__typename") != "Workspace":
        return False, f"workspaceOrError: {workspace or body}"
    entries = workspace.get("locationEntries") or []
    if not entries:
        return False, "no code locations yet"
    states = []
    ready = True
    for entry in entries:
        location = entry.get("locationOrLoadError") or {}
        kind = location.get("__typename")
        states.append(f"{entry.get('name')}={entry.get('loadStatus')}/{kind}")
        failed_on_purpose = entry.get("name") in may_fail and kind == "PythonError"
        if entry.get("loadStatus") != "LOADED" or (
            kind != "RepositoryLocation" and not failed_on_purpose
        ):
            ready = False
        if entry.get("loadStatus") == "LOADED" and kind == "PythonError" and not failed_on_purpose:
            raise _LocationLoadError(
                f"code location {entry.get('name')!r} failed to load: {location.get('message')}"
            )
    return ready, ", ".join(states)


def _wait_until_ready(
    proc: subprocess.Popen[bytes], server: DagsterServer, may_fail: frozenset[str] = frozenset()
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    status = "webserver not answering yet"
    with httpx.Client(timeout=5.0) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited early with code {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"dagster dev not ready after {STARTUP_TIMEOUT:.0f} s (last status: {status})"
                )
            try:
                info = client.get(f"{server.url}/server_info")
                if info.status_code != 200:
                    status = f"/server_info answered HTTP {info.status_code}"
                else:
                    answer = client.post(server.graphql_url, json={"query": WORKSPACE_QUERY})
                    ready, status = _locations_loaded(answer.json(), may_fail)
                    if ready:
                        return
            except (httpx.HTTPError, ValueError) as exc:
                status = f"{type(exc).__name__}: {exc}"
            time.sleep(POLL_INTERVAL)


def _process_tree(pid: int) -> list[psutil.Process]:
    try:
        leader = psutil.Process(pid)
        return [leader, *leader.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
    return members


def _still_running(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes that are neither gone nor zombies (a zombie waits only for its reaper)."""
    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def _wait_gone(
    proc: subprocess.Popen[bytes], others: list[psutil.Process], timeout: float
) -> list[psutil.Process]:
    """Wait for the leader (reaped through ``proc``) and ``others``; return the survivors."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    alive = _still_running(others)
    while alive:
        _, alive = psutil.wait_procs(alive, timeout=max(0.0, min(0.2, deadline - time.monotonic())))
        alive = _still_running(alive)
        if time.monotonic() >= deadline:
            break
    return alive


def _describe(proc: psutil.Process) -> str:
    try:
        cmdline = " ".join(proc.cmdline())[:200]
        return f"pid {proc.pid} ({proc.status()}): {cmdline}"
    except psutil.Error:
        return f"pid {proc.pid}"


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a ``start_new_session`` child and everything in its process group.

    The descendants are collected before the first signal, since they are re-parented (and
    harder to find) once the leader exits. Raises ``AssertionError`` naming any survivor.
    """
    pgid = proc.pid
    descendants = [p for p in _process_tree(proc.pid) if p.pid != proc.pid]
    alive: list[psutil.Process] = descendants
    for sig, timeout in STOP_STEPS:
        if proc.poll() is not None and not alive:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        alive = _wait_gone(proc, alive, timeout)
    # Anything that joined the group after the snapshot (e.g. a run worker launched meanwhile).
    late = [p for p in _still_running(_group_members(pgid)) if p not in alive]
    if late:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        late = _still_running(psutil.wait_procs(late, timeout=5.0)[1])
    survivors = alive + late
    if proc.poll() is None:
        survivors.insert(0, psutil.Process(proc.pid))
    if survivors:
        raise AssertionError(
            "dagster dev left processes running after SIGINT/SIGTERM/SIGKILL:\n"
            + "\n".join(_describe(p) for p in survivors)
        )


@contextlib.contextmanager
def run_dagster_dev(
    base_dir: Path,
    host: str = HOST,
    *,
    project_dir: Path = PROJECT_DIR,
    may_fail: frozenset[str] = frozenset(),
    env: dict[str, str] | None = None,
    command: Callable[[str, int], list[str]] | None = None,
) -> Iterator[DagsterServer]:
    """Start ``dagster dev -w workspace.yaml`` in ``project_dir`` (the sample project by
    default), yield once every location is loaded (or failed, for ``may_fail``), then stop it.
    ``command(host, port)`` starts another server instead (``dg dev``, for instance)."""
    dagster_home = base_dir / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    _write_dagster_yaml(dagster_home)
    log_path = base_dir / "dagster_dev.log"
    port = _free_port(host)
    argv = (
        command(host, port)
        if command is not None
        else [
            sys.executable,
            "-c",
            _EXEC_DAGSTER_DEV,
            "-h",
            host,
            "-p",
            str(port),
            "-w",
            str(project_dir / "workspace.yaml"),
        ]
    )
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            argv,
            cwd=project_dir,
            env={**_child_env(dagster_home), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = DagsterServer(
            url=f"http://{host}:{port}",
            graphql_url=f"http://{host}:{port}/graphql",
            port=port,
            host=host,
            dagster_home=dagster_home,
            pid=proc.pid,
            log_path=log_path,
            project_dir=project_dir,
        )
        try:
            try:
                _wait_until_ready(proc, server, may_fail)
            except (RuntimeError, TimeoutError) as exc:
                pytest.fail(
                    f"{exc}\n--- tail of {log_path} ---\n{_log_tail(log_path)}", pytrace=False
                )
            yield server
        finally:
            stop_process_group(proc)


@pytest.fixture(scope="session")
def dagster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    """A real ``dagster dev`` serving ``sample_location``, shared by the whole session."""
    with run_dagster_dev(tmp_path_factory.mktemp("dagster_dev")) as server:
        yield server


SHOP_PROJECT_DIR = Path(__file__).resolve().parent / "fixtures" / "multi_location_project"


@pytest.fixture(scope="session")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    """A real ``dagster dev`` serving a copy of ``multi_location_project``: locations
    ``dagster_shop`` and ``analytics``, and ``broken_location``, which fails to load."""
    import shutil

    base = tmp_path_factory.mktemp("shop_dev")
    project = Path(shutil.copytree(SHOP_PROJECT_DIR, base / "project"))
    with run_dagster_dev(
        base,
        project_dir=project,
        may_fail=frozenset({"broken_location"}),
        env={"ANALYTICS_STORAGE": str(base / "analytics-storage")},
    ) as server:
        yield server
