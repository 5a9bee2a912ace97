"""``daglab module new|update`` in a real ``create-dagster workspace``, for real.

One workspace for the file: a project from ``create-dagster project`` and two modules from
``daglab module new`` (alpha: standard + postgres + schedule; beta: minimal + mysql). Each module
passes ``dagster definitions validate`` and its own generated tests; the database addons
materialize their asset against a real PostgreSQL and a real MariaDB started here (and stopped
by pid); the schedule shows in ``daglab discover --json`` from a real ``dagster dev``. Updates
run on a module in a git repository of its own, with a template change simulated as "generated
by an older template": the same line edited in the stored base and in the module's file (which
is what a module rendered by an older daglab looks like).
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
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from daglab._modules import module_currency, read_module_meta
from tests.conftest import Result, run_daglab
from tests.dagster_server import _free_port, run_dagster_dev

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CRON = "15 4 * * 1-5"
TIMEZONE = "Europe/Paris"
ALPHA_FLAGS = (
    "--template", "standard", "--addon", "postgres", "--addon", "schedule",
    "--cron", CRON, "--timezone", TIMEZONE, "--port", "auto",
)  # fmt: skip
BETA_FLAGS = ("--template", "minimal", "--addon", "mysql", "--port", "auto")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, **kw: object) -> Result:
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kw,  # type: ignore[arg-type]
    )
    return Result(done.returncode, done.stdout, done.stderr)


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


@dataclass(frozen=True)
class Workspace:
    root: Path
    alpha: Path
    beta: Path
    gamma: Path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    base = tmp_path_factory.mktemp("module_ws")
    made = _run([str(BIN / "create-dagster"), "workspace", "ws", "--no-uv-sync"], base, input="n\n")
    assert made.exit_code == 0, made
    root = base / "ws"
    project = _run(
        [str(BIN / "create-dagster"), "project", "projects/gamma", "--no-uv-sync"],
        root,
        input="n\n",
    )
    assert project.exit_code == 0, project
    for name, flags in (("alpha", ALPHA_FLAGS), ("beta", BETA_FLAGS)):
        result = run_daglab("module", "new", name, *flags, cwd=root)
        assert result.exit_code == 0, result
    return Workspace(
        root, root / "projects" / "alpha", root / "projects" / "beta", root / "projects" / "gamma"
    )


# --- databases ---------------------------------------------------------------------------------


def _db_folder(owner: str | None) -> Path:
    """A folder the database server's user can reach (pytest's own tmp is root's 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="daglab-db-"))
    folder.chmod(0o755)
    if owner is not None:
        shutil.chown(folder, user=owner)
    return folder


def _postgres_binaries() -> tuple[str, str]:
    """initdb and pg_ctl: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return str(folder / "initdb"), str(folder / "pg_ctl")
    pytest.fail("PostgreSQL is not installed (scripts/test installs it)")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL (initdb + pg_ctl, trust auth) on a free loopback port."""
    initdb, pg_ctl = _postgres_binaries()
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root: as the postgres user, as Debian does
        import pwd

        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.fail("running as root needs a `postgres` user (Debian's postgresql makes it)")
    folder = _db_folder(user)
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run(
            [initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, user=user,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start"],
            check=True, capture_output=True, user=user,
        )  # fmt: skip
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            _wait_gone(pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    """A real MariaDB (mariadb-install-db + mariadbd, grant tables skipped) on a free port."""
    import pymysql

    if not Path("/usr/sbin/mariadbd").exists():
        pytest.fail("MariaDB is not installed (scripts/test installs it)")
    folder = _db_folder(None)
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run(
            [
                "mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                "--auth-root-authentication-method=normal", "--skip-test-db",
            ],
            check=True, capture_output=True,
        )  # fmt: skip
        log = (folder / "mariadbd.log").open("wb")
        server = subprocess.Popen(
            [
                "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}",
                f"--socket={folder / 'sock'}", f"--port={port}", "--bind-address=127.0.0.1",
                "--user=root", "--skip-grant-tables", f"--pid-file={folder / 'pid'}",
            ],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_port(port)
            connection = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
            with connection, connection.cursor() as cursor:
                cursor.execute("CREATE DATABASE IF NOT EXISTS daglab_test")
            yield f"mysql://root@127.0.0.1:{port}/daglab_test"
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- module new --------------------------------------------------------------------------------


def test_modules_registered_with_their_answers(workspace: Workspace) -> None:
    dg_toml = (workspace.root / "dg.toml").read_text()
    for path in ("projects/alpha", "projects/beta", "projects/gamma"):
        assert f'path = "{path}"' in dg_toml
    alpha, beta = read_module_meta(workspace.alpha), read_module_meta(workspace.beta)
    assert alpha is not None and beta is not None
    assert read_module_meta(workspace.gamma) is None
    assert (alpha.template, alpha.addons, alpha.env) == (
        "standard", ("postgres", "schedule"), ("ALPHA_POSTGRES_URL",)
    )  # fmt: skip
    assert (alpha.cron, alpha.timezone) == (CRON, TIMEZONE)
    assert (beta.template, beta.addons, beta.env) == ("minimal", ("mysql",), ("BETA_MYSQL_URL",))
    assert alpha.port is not None and beta.port is not None and alpha.port != beta.port
    assert "psycopg[binary]" in (workspace.alpha / "pyproject.toml").read_text()
    assert "pymysql" in (workspace.beta / "pyproject.toml").read_text()
    for module in (workspace.alpha, workspace.beta):
        text = "\n".join(p.read_text() for p in module.rglob("*") if p.is_file())
        assert "postgresql://" not in text.replace("``postgresql://user@", "")
        assert "127.0.0.1" not in text
        manifest = json.loads((module / ".daglab" / "manifest.json").read_text())
        assert "src/" + module.name + "/definitions.py" in manifest["files"]
        assert module_currency(module).modified == ()


def test_base_is_committed_by_gitignore(workspace: Workspace, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(workspace.alpha, tmp_path / "alpha"))
    _run(["git", "init", "-q", "."], copy)
    listed = _run(["git", "ls-files", "--others", "--exclude-standard"], copy).stdout
    assert ".daglab/module-base/base.json" in listed
    assert ".daglab/module-base/files/src/alpha/defs/postgres.py.base" in listed
    assert ".daglab/manifest.json" not in listed


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_definitions_validate(workspace: Workspace, name: str) -> None:
    module = workspace.root / "projects" / name
    done = _run(
        [str(BIN / "dagster"), "definitions", "validate"], module, env={"PYTHONPATH": "src"}
    )
    assert done.exit_code == 0, done
    assert f"Validation successful for code location {name}" in done.output


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_generated_code_passes_its_own_ruff(workspace: Workspace, name: str) -> None:
    module = workspace.root / "projects" / name
    for args in (["check", "."], ["format", "--check", "."]):
        done = _run([str(BIN / "ruff"), *args], module)
        assert done.exit_code == 0, done


def test_alpha_tests_pass_against_postgres(workspace: Workspace, postgres_url: str) -> None:
    import psycopg

    done = _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        workspace.alpha,
        env={"ALPHA_POSTGRES_URL": postgres_url},
    )
    assert done.exit_code == 0, done
    assert "5 passed" in done.stdout, done
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute("SELECT kind, count FROM alpha_events ORDER BY kind").fetchall()
    assert rows == [("login", 12), ("purchase", 2), ("signup", 3)]


def test_beta_tests_pass_against_mariadb(workspace: Workspace, mysql_url: str) -> None:
    import pymysql

    done = _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        workspace.beta,
        env={"BETA_MYSQL_URL": mysql_url},
    )
    assert done.exit_code == 0, done
    assert "3 passed" in done.stdout, done
    port = int(mysql_url.rsplit(":", 1)[1].split("/")[0])
    connection = pymysql.connect(host="127.0.0.1", port=port, user="root", database="daglab_test")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT kind, count FROM beta_events ORDER BY kind")
        assert cursor.fetchall() == (("login", 12), ("purchase", 2), ("signup", 3))


def test_schedule_in_discover_from_dagster_dev(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from daglab._workspace import load_workspace
    from daglab._workspace.export import export_text

    serve = tmp_path_factory.mktemp("serve")
    (serve / "workspace.yaml").write_text(export_text(load_workspace(workspace.root), folder=serve))
    with run_dagster_dev(serve, project_dir=serve) as server:
        found = run_daglab("discover", "--json", "--url", server.url, cwd=serve)
    assert found.exit_code == 0, found
    data = json.loads(found.stdout)
    assert {loc["name"] for loc in data["locations"]} >= {"alpha", "beta", "gamma"}
    (schedule,) = [s for s in data["schedules"] if s["name"] == "alpha_schedule"]
    assert (schedule["cron"], schedule["timezone"], schedule["job"]) == (
        CRON,
        TIMEZONE,
        "orders_job",
    )


def test_dg_dev_loads_every_location(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`dg dev --use-active-venv` in the workspace serves the modules with the dg project."""
    from tests.dagster_server import WORKSPACE_QUERY, _locations_loaded, graphql

    def dg_dev(host: str, port: int) -> list[str]:
        return [str(BIN / "dg"), "dev", "--use-active-venv", "--host", host, "-p", str(port)]

    env = {"VIRTUAL_ENV": sys.prefix, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    base = tmp_path_factory.mktemp("dg_dev")
    with run_dagster_dev(base, project_dir=workspace.root, env=env, command=dg_dev) as server:
        ready, states = _locations_loaded(graphql(server, WORKSPACE_QUERY))
        assert ready, states
        assert {"alpha", "beta", "gamma"} <= {s.split("=")[0] for s in states.split(", ")}


def test_new_again_changes_nothing(workspace: Workspace) -> None:
    before = _tree(workspace.root)
    again = run_daglab("module", "new", "alpha", *ALPHA_FLAGS, cwd=workspace.root)
    assert again.exit_code == 0, again
    assert "nothing changed" in again.stdout
    bare = run_daglab("module", "new", "beta", cwd=workspace.root)  # answers from its record
    assert bare.exit_code == 0, bare
    assert _tree(workspace.root) == before


def test_no_terminal_missing_answer_exits_2(workspace: Workspace) -> None:
    result = run_daglab("module", "new", "delta", "--template", "minimal", cwd=workspace.root)
    assert result.exit_code == 2, result
    assert "--addon" in result.stderr
    assert not (workspace.root / "projects" / "delta").exists()
    alpha = read_module_meta(workspace.alpha)
    assert alpha is not None
    port = str(alpha.port)
    taken = run_daglab("module", "new", "delta", "--defaults", "--port", port, cwd=workspace.root)
    assert taken.exit_code == 8, taken
    assert not (workspace.root / "projects" / "delta").exists()


def test_init_bootstrap_registers_in_workspace(tmp_path: Path) -> None:
    made = _run(
        [str(BIN / "create-dagster"), "workspace", "ws", "--no-uv-sync"], tmp_path, input="n\n"
    )
    assert made.exit_code == 0, made
    root = tmp_path / "ws"
    result = run_daglab(
        "init", "--bootstrap", "projects/epsilon", "--template", "minimal", cwd=root
    )
    assert result.exit_code == 0, result
    assert 'path = "projects/epsilon"' in (root / "dg.toml").read_text()
    before = (root / "dg.toml").read_bytes()
    assert (
        run_daglab(
            "init", "--bootstrap", "projects/epsilon", "--template", "minimal", cwd=root
        ).exit_code
        == 0
    )
    assert (root / "dg.toml").read_bytes() == before


# --- module update -----------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    done = _run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], repo)
    assert done.exit_code == 0, done
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh module (minimal + schedule) committed in a git repository of its own."""
    result = run_daglab(
        "module", "new", "omega", "--template", "minimal", "--addon", "schedule",
        "--cron", "0 6 * * *", "--timezone", "UTC", "--port", "4100", cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result
    module = tmp_path / "omega"
    _git(module, "init", "-q", ".")
    _git(module, "add", "-A")
    _git(module, "commit", "-qm", "generated")
    return module


STARTER = "src/omega/defs/starter.py"
#: The starter job's description as the current template renders it, and as an "older" one did.
NEW = (
    '    description="Materialize the starter assets; StarterConfig configures starter_numbers.",\n'
)
OLD = '    description="Materialize the starter assets.",\n'
MINE = '    description="Our starter assets.",\n'
BASE = ".daglab/module-base/files/src/omega/defs/starter.py.base"


def _older_template(module: Path, old: str, new: str) -> None:
    """Make the module look generated by a template whose line was ``old`` (now ``new``)."""
    for rel in (STARTER, BASE):
        path = module / rel
        assert new in path.read_text()
        path.write_text(path.read_text().replace(new, old))


def test_update_merges_user_edit_with_template_change(repo: Path) -> None:
    _older_template(repo, OLD, NEW)
    _git(repo, "commit", "-qam", "as an older template made it")
    starter = repo / STARTER
    starter.write_text(starter.read_text().replace("    power: int = 2\n", "    power: int = 3\n"))
    _git(repo, "commit", "-qam", "my edit")
    assert module_currency(repo).behind and module_currency(repo).modified == (STARTER,)

    dry = run_daglab("module", "update", "--dry-run", cwd=repo)
    assert dry.exit_code == 0, dry
    assert f"-{OLD}" in dry.stdout and f"+{NEW}" in dry.stdout
    assert _git(repo, "status", "--porcelain") == ""

    done = run_daglab("module", "update", cwd=repo)
    assert done.exit_code == 0, done
    text = starter.read_text()
    assert NEW in text and "    power: int = 3\n" in text
    assert "<<<<<<<" not in text
    currency = module_currency(repo)
    assert not currency.behind and currency.modified == (STARTER,) and not currency.conflicts
    _git(repo, "commit", "-qam", "updated")
    again = run_daglab("module", "update", cwd=repo)
    assert again.exit_code == 0 and "nothing to do" in again.stdout
    assert _git(repo, "status", "--porcelain") == ""


def test_update_conflict_leaves_markers_and_exits_8(repo: Path) -> None:
    _older_template(repo, OLD, NEW)
    _git(repo, "commit", "-qam", "as an older template made it")
    starter = repo / STARTER
    starter.write_text(starter.read_text().replace(OLD, MINE))
    _git(repo, "commit", "-qam", "my edit of the same line")

    done = run_daglab("module", "update", "omega", cwd=repo.parent)
    assert done.exit_code == 8, done
    assert STARTER in done.output
    text = starter.read_text()
    assert f"<<<<<<< yours\n{MINE}=======\n{NEW}>>>>>>> template\n" in text
    assert module_currency(repo).conflicts == (STARTER,)

    _git(repo, "commit", "-qam", "markers committed by mistake")
    refused = run_daglab("module", "update", cwd=repo)
    assert refused.exit_code == 8 and "conflict markers" in refused.stderr
    assert starter.read_text() == text


def test_update_refuses_dirty_tree(repo: Path) -> None:
    _older_template(repo, OLD, NEW)
    _git(repo, "commit", "-qam", "as an older template made it")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\nuncommitted\n")
    before = _tree(repo)
    refused = run_daglab("module", "update", cwd=repo)
    assert refused.exit_code == 8, refused
    assert "uncommitted" in refused.stderr and "README.md" in refused.stderr
    assert _tree(repo) == before


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a tty")
def test_a_terminal_is_asked_the_missing_answers(tmp_path: Path) -> None:
    answers = "huge\nminimal\nschedule\n30 5 * * *\nAsia/Tokyo\n4321\n"  # asked again
    done = _run(
        ["script", "-qec", f"{BIN / 'daglab'} module new kappa", "/dev/null"],
        tmp_path,
        input=answers,
    )
    assert done.exit_code == 0, done
    assert "'huge' is not one of minimal, standard, ml" in done.output
    meta = read_module_meta(tmp_path / "kappa")
    assert meta is not None
    assert (meta.template, meta.addons, meta.cron, meta.timezone, meta.port) == (
        "minimal", ("schedule",), "30 5 * * *", "Asia/Tokyo", 4321
    )  # fmt: skip
