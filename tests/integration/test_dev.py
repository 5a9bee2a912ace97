"""``daglab dev``: real ``dagster dev`` and ``marimo edit`` children, started and stopped for real.

Full start-ups are few (each costs a Dagster start): one stopped with SIGINT, one with SIGTERM
(busy ports, an env file, the last scaffolded notebook, --sandbox, --log-level DEBUG), and one
where marimo dies under --ci. Every process the session starts is accounted for afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest

from daglab import _sidecar
from daglab._errors import ConflictError, UsageError, ValidationError
from tests.conftest import FIXTURES, Result

DAGLAB = str(Path(sys.executable).parent / "daglab")
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
READY_MARK = "both UIs are up"

NOTEBOOK = """import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell
def _(mo):
    mo.md("dev test")
    return


if __name__ == "__main__":
    app.run()
"""


# --------------------------------------------------------------------------- helpers


def ports_free(host: str, *ports: int) -> bool:
    return all(_sidecar.port_is_free(host, port) for port in ports)


def free_block(size: int, taken: tuple[int, ...] = ()) -> int:
    """A port whose next ``size - 1`` neighbours are free too (and clear of ``taken``)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base: int = sock.getsockname()[1]
        block = range(base, base + size)
        if base + size < 65000 and not set(block) & set(taken) and ports_free("127.0.0.1", *block):
            return base
    raise RuntimeError("no block of free ports found")


def make_project(root: Path, dagster_port: int, marimo_port: int) -> Path:
    """The sample Dagster project with daglab set up, and one tiny marimo notebook."""
    shutil.copytree(FIXTURES / "sample_dagster_project", root)
    (root / ".git").mkdir()  # config discovery stops here
    (root / ".daglab").mkdir()  # as after `daglab init`: the log file is written
    (root / "daglab.yaml").write_text(
        f"dagster:\n  port: {dagster_port}\nmarimo:\n  port: {marimo_port}\n"
        "defaults:\n  open_browser: true\n"  # --ci/--no-open must still keep the browser shut
    )
    (root / "notebooks").mkdir()
    (root / "notebooks" / "nb.py").write_text(NOTEBOOK)
    return root


def dagster_home(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return folder


@dataclass
class Dev:
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    root: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if READY_MARK in self.stdout.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"daglab dev exited {self.proc.returncode}:\n{self.output()[-4000:]}")
            time.sleep(0.3)
        pytest.fail(f"daglab dev not ready after {READY_TIMEOUT} s:\n{self.output()[-4000:]}")

    def last_ports(self) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.root / ".daglab/last_ports.json").read_text())
        return data

    def token(self) -> str:
        match = re.search(r"access_token=([A-Za-z0-9_\-]+)", self.stdout.read_text())
        assert match, self.output()
        return match.group(1)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"daglab dev still running {timeout} s after the signal:\n{self.output()}")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def running(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def members(*, sids: set[int], pgids: set[int]) -> list[psutil.Process]:
    """Live processes in any of these sessions or process groups."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if os.getsid(proc.pid) in sids or os.getpgid(proc.pid) in pgids:
                found.append(proc)
    return found


def describe(procs: list[psutil.Process]) -> str:
    lines = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            lines.append(f"{proc.pid} {' '.join(proc.cmdline())[:150]}")
    return "\n".join(lines)


def assert_nothing_left(dev: Dev, snapshot: list[psutil.Process], pgids: set[int]) -> None:
    """No descendant seen while running, and nothing in the session or the children's groups."""
    deadline = time.monotonic() + 10.0  # zombies re-parented to init need a moment to be reaped
    while True:
        left = running(snapshot) + members(sids={dev.proc.pid, *pgids}, pgids=pgids)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"left running after daglab dev stopped:\n{describe(left)}"


# What a background job of a non-interactive shell gets: SIGINT ignored, inherited over exec.
IGNORING_SIGINT = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


@contextlib.contextmanager
def daglab_dev(
    root: Path, *args: str, env: dict[str, str] | None = None, ignore_sigint: bool = False
) -> Iterator[Dev]:
    """``daglab dev ARGS`` in a session of its own; killed (whole tree) if the test fails."""
    stdout, stderr = root / "dev.stdout", root / "dev.stderr"
    prefix = [sys.executable, "-c", IGNORING_SIGINT] if ignore_sigint else []
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [*prefix, DAGLAB, "dev", *args],
            cwd=root,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    dev = Dev(proc, stdout, stderr, root)
    try:
        yield dev
    finally:
        if proc.poll() is None:  # a failed test: leave nothing behind either
            tree = descendants(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=40)
            for leftover in [*running(tree), *running([psutil.Process(proc.pid)])]:
                with contextlib.suppress(psutil.Error):
                    os.killpg(leftover.pid, signal.SIGKILL)
                    leftover.kill()
            proc.wait(timeout=10)


def children_by_name(dev: Dev) -> dict[str, psutil.Process]:
    ports = dev.last_ports()
    return {
        name: psutil.Process(int(ports[name]["pid"]))  # type: ignore[index]
        for name in ("dagster", "marimo")
    }


# --------------------------------------------------------------------------- full start-ups


@pytest.mark.slow
def test_dev_serves_both_uis_and_sigint_leaves_nothing(tmp_path: Path) -> None:
    dagster_port = free_block(3)
    marimo_port = free_block(3, taken=tuple(range(dagster_port, dagster_port + 3)))
    root = make_project(tmp_path / "proj", dagster_port, marimo_port)
    home = dagster_home(root / ".dagster_home")
    args = ("--no-open", "--ci", "--notebook", "notebooks/nb.py")
    with daglab_dev(root, *args, ignore_sigint=True) as dev:
        dev.wait_ready()
        token = dev.token()

        # .daglab/last_ports.json: the configured ports, the children's pids, no token
        ports = dev.last_ports()
        assert ports["supervisor_pid"] == dev.proc.pid
        assert datetime.fromisoformat(str(ports["started_at"]))
        assert ports["notebook"] == "notebooks/nb.py"
        assert ports["dagster"] == {
            "host": "127.0.0.1",
            "port": dagster_port,
            "url": f"http://127.0.0.1:{dagster_port}",
            "pid": ports["dagster"]["pid"],  # type: ignore[index]
            "command": "dagster dev",
        }
        assert ports["marimo"]["port"] == marimo_port  # type: ignore[index]
        assert token not in json.dumps(ports)
        kids = children_by_name(dev)
        assert {p.pid for p in psutil.Process(dev.proc.pid).children()} == {
            p.pid for p in kids.values()
        }
        for kid in kids.values():  # each child leads a session and group of its own
            assert os.getsid(kid.pid) == kid.pid == os.getpgid(kid.pid)

        # Dagster answers GraphQL on its port
        answer = httpx.post(
            f"http://127.0.0.1:{dagster_port}/graphql", json={"query": "{ version }"}, timeout=30
        )
        assert answer.status_code == 200 and answer.json()["data"]["version"]

        # marimo keeps its token: refused without it, let in with it
        marimo = f"http://127.0.0.1:{marimo_port}"
        refused = httpx.get(f"{marimo}/", timeout=10)
        assert (
            refused.status_code in (302, 303, 307) and "/auth/login" in refused.headers["location"]
        )
        assert httpx.get(f"{marimo}/api/status", timeout=10).status_code == 401
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            page = browser.get(f"{marimo}/?access_token={token}")
            assert page.status_code == 200 and "/auth/login" not in str(page.url)
            assert browser.get(f"{marimo}/api/status").status_code == 200

        # a marimo session starts a kernel in a session of its own; it must not survive either
        from websockets.sync.client import connect

        with connect(
            f"ws://127.0.0.1:{marimo_port}/ws?session_id=s_devtest&access_token={token}"
        ) as ws:
            assert "kernel-ready" in str(ws.recv(timeout=60))
            kernels = [p for p in descendants(kids["marimo"].pid) if os.getsid(p.pid) == p.pid]
            assert kernels, describe(descendants(kids["marimo"].pid))

            # the token is on no command line of any process, nor in marimo's environment
            for proc in psutil.process_iter():
                with contextlib.suppress(psutil.Error):
                    assert token not in " ".join(proc.cmdline()), proc
            assert token not in json.dumps(kids["marimo"].environ())

            # the children's environments: DAGSTER_HOME, and where notebooks find this Dagster
            assert kids["dagster"].environ()["DAGSTER_HOME"] == str(home.resolve())
            marimo_env = kids["marimo"].environ()
            assert marimo_env["DAGLAB_DAGSTER__PORT"] == str(dagster_port)
            assert marimo_env["DAGLAB_DAGSTER__URL"] == f"http://127.0.0.1:{dagster_port}"
            assert "DAGLAB_SECURITY__SANDBOX_MODE" not in marimo_env

            # the supervisor stays small (DESIGN.md: under 80 MB)
            assert psutil.Process(dev.proc.pid).memory_info().rss < 80 * 2**20

            # Ctrl-C (with the notebook still open in a "browser") stops everything
            snapshot = [psutil.Process(dev.proc.pid), *descendants(dev.proc.pid)]
            assert set(kernels) <= set(snapshot)
            os.kill(dev.proc.pid, signal.SIGINT)
            started = time.monotonic()
            assert dev.wait_exit() == 0, dev.output()
            assert time.monotonic() - started < 45
        assert_nothing_left(dev, snapshot, {p.pid for p in kids.values()})

    out = dev.stdout.read_text()
    assert "dagster │" in out and "marimo  │" in out
    assert f"http://127.0.0.1:{marimo_port}/?access_token={token}" in out  # shown once, usable
    assert out.count(token) == 1
    assert "no process left running" in out
    log = (root / ".daglab" / "daglab.log").read_text()
    assert re.search(r"daglab\.dev\.output - INFO - dagster │ .*Serving dagster-webserver", log)
    assert re.search(r"daglab\.dev\.output - INFO - marimo  │ .*access_token=\*\*\*", log)
    assert "resources: dagster cpu" in log or "peak rss: dagster" in log
    assert token not in log


@pytest.mark.slow
def test_busy_ports_env_file_last_notebook_and_sigterm(tmp_path: Path) -> None:
    dagster_port = free_block(4)
    marimo_port = free_block(4, taken=tuple(range(dagster_port, dagster_port + 4)))
    root = make_project(tmp_path / "proj", dagster_port, marimo_port)
    from daglab._manifest import remember_last_notebook

    remember_last_notebook(root, root / "notebooks" / "nb.py")  # as `daglab scaffold` does
    home = dagster_home(tmp_path / "elsewhere_home")
    (root / ".env").write_text(
        "# settings for the dev loop\n"
        f"export DAGSTER_HOME={home}\n"
        'DEV_TEST_GREETING="hello world"  # a comment\n'
        "DEV_TEST_LITERAL='a $b \\n'\n"
    )
    blockers = []
    for port in (dagster_port, marimo_port):  # both configured ports are taken
        sock = socket.socket()
        sock.bind(("127.0.0.1", port))
        sock.listen()
        blockers.append(sock)
    try:
        with daglab_dev(
            root, "--no-open", "--env-file", ".env", "--sandbox", "--log-level", "DEBUG"
        ) as dev:
            dev.wait_ready()
            ports = dev.last_ports()
            assert ports["dagster"]["port"] == dagster_port + 1  # type: ignore[index]
            assert ports["marimo"]["port"] == marimo_port + 1  # type: ignore[index]
            assert ports["notebook"] == "notebooks/nb.py"
            kids = children_by_name(dev)
            for kid in kids.values():
                env = kid.environ()
                assert env["DEV_TEST_GREETING"] == "hello world"
                assert env["DEV_TEST_LITERAL"] == "a $b \\n"
            assert kids["dagster"].environ()["DAGSTER_HOME"] == str(home)
            marimo_env = kids["marimo"].environ()
            assert marimo_env["DAGLAB_SECURITY__SANDBOX_MODE"] == "true"
            assert marimo_env["DAGLAB_DAGSTER__PORT"] == str(dagster_port + 1)
            assert "--log-level debug" in " ".join(kids["dagster"].cmdline())
            assert "--log-level DEBUG" in " ".join(kids["marimo"].cmdline())
            answer = httpx.post(
                f"http://127.0.0.1:{dagster_port + 1}/graphql",
                json={"query": "{ version }"},
                timeout=30,
            )
            assert answer.json()["data"]["version"]

            snapshot = [psutil.Process(dev.proc.pid), *descendants(dev.proc.pid)]
            os.kill(dev.proc.pid, signal.SIGTERM)
            assert dev.wait_exit() == 0, dev.output()
            assert_nothing_left(dev, snapshot, {p.pid for p in kids.values()})
    finally:
        for sock in blockers:
            sock.close()
    out = dev.output()
    assert f"port {dagster_port} is busy: Dagster uses {dagster_port + 1}" in out
    assert f"port {marimo_port} is busy: marimo uses {marimo_port + 1}" in out
    assert "started dagster dev (pid" in out  # --log-level DEBUG shows the supervisor's detail


@pytest.mark.slow
def test_ci_exits_non_zero_when_marimo_dies_and_stops_dagster(tmp_path: Path) -> None:
    dagster_port = free_block(3)
    marimo_port = free_block(3, taken=tuple(range(dagster_port, dagster_port + 3)))
    root = make_project(tmp_path / "proj", dagster_port, marimo_port)  # no DAGSTER_HOME at all
    with daglab_dev(root, "--ci", "--notebook", "notebooks/nb.py") as dev:
        deadline = time.monotonic() + READY_TIMEOUT
        while "marimo edit answers" not in dev.stdout.read_text():
            assert dev.proc.poll() is None, dev.output()
            assert time.monotonic() < deadline, dev.output()
            time.sleep(0.3)
        kids = children_by_name(dev)
        snapshot = [psutil.Process(dev.proc.pid), *descendants(dev.proc.pid)]
        os.killpg(kids["marimo"].pid, signal.SIGKILL)  # marimo dies; Dagster may still be starting
        assert dev.wait_exit() == 3, dev.output()
        assert_nothing_left(dev, snapshot, {p.pid for p in kids.values()})
    err = dev.stderr.read_text()
    assert "marimo edit was killed by signal 9 unexpectedly" in err
    assert "→" in err  # the remediation line
    assert "temporary folder" in dev.output()  # told that runs will not be kept
    assert not list(root.glob(".tmp_dagster_home_*"))  # Dagster cleaned its temporary instance


# --------------------------------------------------------------------------- bad input (fast)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj", 3000, 3010)


def test_missing_notebook_is_a_validation_error(cli, project: Path) -> None:
    result: Result = cli("dev", "--ci", "--notebook", "nope.py", cwd=project)
    assert result.exit_code == 7, result
    assert "nope.py does not exist" in result.stderr and "daglab scaffold" in result.stderr


def test_notebook_outside_the_project_is_refused(cli, project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(NOTEBOOK)
    result: Result = cli("dev", "--ci", "--notebook", str(outside), cwd=project)
    assert result.exit_code == 7, result
    assert "outside the project" in result.stderr


def test_reversed_port_range_is_a_usage_error(cli, project: Path) -> None:
    result: Result = cli("dev", "--ci", "--port-range", "10-5", cwd=project)
    assert result.exit_code == 2, result
    assert "--port-range 5-10" in result.stderr  # the remedy says what to type


def test_no_token_beyond_loopback_is_refused(cli, project: Path) -> None:
    result: Result = cli("dev", "--ci", "--host", "0.0.0.0", "--no-token", cwd=project)
    assert result.exit_code == 2, result
    assert "--no-token" in result.stderr and "127.0.0.1" in result.stderr


def test_no_project_is_an_environment_error(cli, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    (bare / ".git").mkdir(parents=True)
    (bare / "nb.py").write_text(NOTEBOOK)
    result: Result = cli("dev", "--ci", "--notebook", "nb.py", cwd=bare)
    assert result.exit_code == 3, result
    assert "No Dagster project" in result.stderr and "daglab init --bootstrap" in result.stderr


def test_a_project_without_code_location_is_an_environment_error(cli, tmp_path: Path) -> None:
    root = tmp_path / "nocode"
    (root / ".git").mkdir(parents=True)
    (root / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (root / "nb.py").write_text(NOTEBOOK)
    result: Result = cli("dev", "--ci", "--notebook", "nb.py", cwd=root)
    assert result.exit_code == 3, result
    assert "No code location" in result.stderr and "workspace.yaml" in result.stderr


def python_without(folder: Path, *missing: str) -> Path:
    """A virtualenv holding what this one holds except the distributions named ``missing``.

    Its site-packages links every entry of ours but those, so daglab (editable) imports as
    usual, and its ``bin`` has only Python: the missing tools are neither importable nor run.
    """
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    theirs = Path(
        subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()
    )
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(missing) and not (theirs / entry.name).exists():
            (theirs / entry.name).symlink_to(entry)
    return python


@pytest.mark.parametrize(
    ("missing", "message", "remedy"),
    [
        (("marimo",), "marimo is not installed", "pip install 'daglab[notebooks]'"),
        (("dagster",), "Dagster is not installed", "pip install 'daglab[dagster]'"),
    ],
)
def test_dagster_or_marimo_missing_is_exit_3_with_the_remedy(
    project: Path, tmp_path: Path, missing: tuple[str, ...], message: str, remedy: str
) -> None:
    python = python_without(tmp_path / "venv", *missing)
    env = {**os.environ, "PATH": f"{python.parent}:/usr/bin:/bin", "NO_COLOR": "1"}
    done = subprocess.run(
        [python, "-m", "daglab", "dev", "--ci", "--notebook", "notebooks/nb.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done
    assert message in done.stderr and remedy in done.stderr
    assert not (project / ".daglab" / "last_ports.json").exists()  # nothing was started


def test_ci_without_a_notebook_is_a_usage_error(cli, project: Path) -> None:
    result: Result = cli("dev", "--ci", cwd=project)
    assert result.exit_code == 2, result
    assert "--notebook" in result.stderr and "daglab scaffold" in result.stderr


def test_without_a_notebook_a_terminal_gets_a_prompt(project: Path) -> None:
    (project / "notebooks" / "jobs").mkdir()
    (project / "notebooks" / "jobs" / "other_explore.py").write_text(NOTEBOOK)
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"2\n")  # typed ahead: the second notebook
        done = subprocess.run(
            # after the choice the env file is read: a missing one stops before anything starts
            [DAGLAB, "dev", "--no-open", "--env-file", "missing.env", "--log-level", "INFO"],
            cwd=project,
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert "Which notebook?" in done.stderr, done.stderr
    assert "1. notebooks/jobs/other_explore.py" in done.stderr
    assert "2. notebooks/nb.py" in done.stderr
    assert "notebook: notebooks/nb.py" in done.stderr
    assert done.returncode == 7, done.stderr  # the prompt answered; then the missing env file


def test_missing_env_file_is_a_validation_error(cli, project: Path) -> None:
    result: Result = cli(
        "dev", "--ci", "--notebook", "notebooks/nb.py", "--env-file", "nope.env", cwd=project
    )
    assert result.exit_code == 7, result
    assert "nope.env does not exist" in result.stderr


def test_no_free_port_in_the_range_is_a_conflict(cli, project: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result: Result = cli(
            "dev", "--ci", "--notebook", "notebooks/nb.py", "--port-range", f"{port}-{port}",
            cwd=project,
        )  # fmt: skip
    assert result.exit_code == 8, result
    assert f"{port}-{port} are all in use" in result.stderr
    assert not (project / ".daglab" / "last_ports.json").exists()  # nothing was started


def test_dev_help_lists_every_flag_and_imports_nothing_heavy(tmp_path: Path) -> None:
    from tests.integration.test_startup import heavy_in, imported_modules

    modules = imported_modules(["dev", "--help"], tmp_path, {"DAGLAB_NO_HELP_CACHE": "1"})
    assert heavy_in(modules) == set()
    text = subprocess.run(
        [DAGLAB, "dev", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGLAB_NO_HELP_CACHE": "1", "COLUMNS": "200"},
        check=True,
    ).stdout
    for flag in (
        "--notebook", "--dagster-port", "--marimo-port", "--port-range", "--open", "--no-open",
        "--env-file", "--ci", "--sandbox", "--host", "--no-token", "Examples", "daglab dev",
    ):  # fmt: skip
        assert flag in text, flag


# --------------------------------------------------------------------------- the small parts


def test_env_file_syntax() -> None:
    text = (
        "# comment\n\n"
        "PLAIN=value\n"
        "export EXPORTED=1\n"
        "SPACED = padded value   # trailing comment\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        "SINGLE='no $expansion \\n here' # comment\n"
        'DOUBLE="line\\nbreak \\"quoted\\""\n'
        "URL=http://x/?a=b&c=d\n"
    )
    assert _sidecar.parse_env_text(text) == {
        "PLAIN": "value",
        "EXPORTED": "1",
        "SPACED": "padded value",
        "HASH": "a#b",
        "EMPTY": "",
        "SINGLE": "no $expansion \\n here",
        "DOUBLE": 'line\nbreak "quoted"',
        "URL": "http://x/?a=b&c=d",
    }


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not a pair", "expected KEY=VALUE"),
        ("1KEY=x", "expected KEY=VALUE"),
        ('KEY="open', "not closed"),
        ("KEY='a' b", "after the closing quote"),
    ],
)
def test_env_file_errors_name_the_line(line: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=rf"\.env:2: .*{problem}"):
        _sidecar.parse_env_text(f"OK=1\n{line}\n", ".env")


def test_port_range_parsing() -> None:
    assert _sidecar.parse_port_range("3000-3020") == (3000, 3020)
    assert _sidecar.parse_port_range(" 5 - 5 ") == (5, 5)
    for bad in ("10-5", "3000", "a-b", "0-10", "1-70000"):
        with pytest.raises(UsageError):
            _sidecar.parse_port_range(bad)


def test_candidate_ports() -> None:
    assert _sidecar.candidate_ports(3000, None) == list(range(3000, 3011))
    assert _sidecar.candidate_ports(4005, (4000, 4007)) == [4005, 4000, 4001, 4002, 4003, 4004,
                                                            4006, 4007]  # fmt: skip
    assert _sidecar.candidate_ports(3000, (4000, 4002)) == [4000, 4001, 4002]


def test_choose_port_skips_busy_and_taken_ports() -> None:
    base = free_block(4)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base))
        blocker.listen()
        assert not _sidecar.port_is_free("127.0.0.1", base)
        assert _sidecar.choose_port("x", base, host="127.0.0.1", port_range=None) == base + 1
        assert (
            _sidecar.choose_port(
                "x", base, host="127.0.0.1", port_range=(base, base + 3), taken=(base + 1,)
            )
            == base + 2
        )
        with pytest.raises(ConflictError):
            _sidecar.choose_port("x", base, host="127.0.0.1", port_range=(base, base))


def test_loopback_rules() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert _sidecar.is_loopback(host)
        _sidecar.check_host(host, token=False)
    assert not _sidecar.is_loopback("0.0.0.0")
    _sidecar.check_host("0.0.0.0", token=True)
    assert _sidecar.http_url("0.0.0.0", 3000) == "http://127.0.0.1:3000"
    assert _sidecar.http_url("::", 3000) == "http://[::1]:3000"


def test_notebook_choices_are_marimo_notebooks(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a_explore.py").write_text(NOTEBOOK)
    (tmp_path / "b.py").write_text(NOTEBOOK)
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "helper.py").write_text("x = 1\n")
    (tmp_path / "__marimo__").mkdir()
    (tmp_path / "__marimo__" / "cached.py").write_text(NOTEBOOK)
    assert _sidecar.notebook_choices(tmp_path) == [
        tmp_path / "b.py",
        tmp_path / "jobs/a_explore.py",
    ]
    assert _sidecar.notebook_choices(tmp_path / "missing") == []
