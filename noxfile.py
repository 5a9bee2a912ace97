"""The compatibility matrix: daglab's live-server tests with the oldest and newest supported
Dagster minor and marimo, on Python 3.10 and 3.13.

    uvx nox -s compat                 # all eight cells (about 19 minutes each on 2 cores)
    uvx nox -s compat-3.10 -- -x      # the four Python 3.10 cells; arguments go to pytest
    uvx nox -l                        # the cells by name
    nox -s smoke                      # the oldest cell, a handful of live tests (scripts/test)

Environments are built by uv (a cell's install takes seconds instead of a minute with pip).
nox finds interpreters as ``python3.10``/``python3.13`` on PATH; with pyenv, list them all in
``PYENV_VERSION`` (e.g. ``3.11.7:3.10.13:3.12.1:3.13.0``). ``bash scripts/test`` stays the
default gate and runs the current versions pinned in constraints.txt.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["compat"]

#: Oldest cells pin the exact lower bounds of pyproject.toml's extras (daglab._compat.TESTED);
#: newest cells take the latest patch of the newest supported minor.
DAGSTER = {"dagster-oldest": "==1.12.13", "dagster-newest": "==1.13.*"}
MARIMO = {"marimo-oldest": "==0.23.6", "marimo-newest": "==0.25.*"}

#: The live part of the suite: every test that needs the session's `dagster dev` (discover,
#: run, failing run, sweep, scaffold + marimo check, export --attach, stats, doctor, a CLI
#: without Dagster), then in-process runs and the flags daglab passes to dagster/dg/marimo.
LIVE = [
    ["-m", "dagster", "tests/integration"],
    ["tests/integration/test_inprocess.py", "tests/integration/test_compat_commands.py"],
]


@nox.session(python=["3.10", "3.13"])
@nox.parametrize("marimo", list(MARIMO.values()), ids=list(MARIMO))
@nox.parametrize("dagster", list(DAGSTER.values()), ids=list(DAGSTER))
def compat(session: nox.Session, dagster: str, marimo: str) -> None:
    session.env["UV_COMPILE_BYTECODE"] = "1"  # without bytecode the tests take twice as long
    dagster_packages = ("dagster", "dagster-webserver", "dagster-dg-cli", "create-dagster")
    session.install(
        "-e",
        ".[dev]",
        *(f"{name}{dagster}" for name in dagster_packages),
        f"marimo{marimo}",
    )
    packages = ("dagster", "dagster-dg-cli", "marimo", "typer")
    versions = f"import importlib.metadata as m; print({{p: m.version(p) for p in {packages!r}}})"
    session.run("python", "-c", versions)
    for args in LIVE:
        session.run("pytest", "-p", "no:cacheprovider", *args, *session.posargs)


#: The short smoke of the oldest cell that ``bash scripts/test`` runs after the main suite:
#: discover, a successful and a failing run, scaffold + ``marimo check`` + export, in-process
#: runs, and the flags daglab passes to dagster/dg/marimo (3 to 4 minutes on 2 idle cores).
SMOKE_PINS = (
    "dagster==1.12.13",
    "dagster-webserver==1.12.13",
    "dagster-dg-cli==1.12.13",
    "create-dagster==1.12.13",
    "marimo==0.23.6",
)
SMOKE_TESTS = (
    "tests/integration/test_discover.py::test_everything_in_one_call",
    "tests/integration/test_run.py::test_job_run_succeeds_and_is_tagged",
    "tests/integration/test_run.py::test_failing_run_is_exit_4_with_the_error",
    "tests/integration/test_scaffold.py::test_asset_notebook_against_the_live_server",
    "tests/integration/test_inprocess.py::test_asset_runs_with_its_upstream_assets",
    "tests/integration/test_inprocess.py::test_failing_job",
    "tests/integration/test_compat_commands.py",
)
#: uv's words for an index it could not reach; any other failed install (above all "No
#: solution found") is a real incompatibility and fails the smoke.
OFFLINE_MARKERS = (
    "failed to fetch",
    "error sending request",
    "dns error",
    "failed to lookup address",
    "network is unreachable",
    "connection refused",
    "connection reset",
    "operation timed out",
    "request failed after",
    "because you set `--offline`",
    "not available in the cache",
)


def _smoke_interpreter() -> tuple[str | None, str]:
    """A Python 3.10 (``DAGLAB_SMOKE_PYTHON``, ``python3.10`` on PATH, pyenv's), or why none."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    candidates = [os.environ.get("DAGLAB_SMOKE_PYTHON", ""), shutil.which("python3.10") or ""]
    root = Path(os.environ.get("PYENV_ROOT") or "~/.pyenv").expanduser()
    candidates += [str(p) for p in sorted(root.glob("versions/3.10*/bin/python"))]
    check = "import sys; sys.exit(sys.version_info[:2] != (3, 10))"
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603  fixed argv, the interpreter is only probed
            [candidate, "-c", check], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return candidate, ""
    return None, (
        "no Python 3.10 interpreter (looked at $DAGLAB_SMOKE_PYTHON, python3.10 on PATH and"
        f" {root}/versions/3.10*); install one, e.g. `pyenv install 3.10`, or point"
        " DAGLAB_SMOKE_PYTHON at it"
    )


def _uv_install(session: nox.Session, uv: str, python: str, *requirements: str) -> None:
    """Install from uv's cache if it can, else from the index; an index that cannot be reached
    skips the smoke, any other failure (a conflict among the pins) fails it."""
    import subprocess

    base = [uv, "pip", "install", "--quiet", "--python", python, *requirements]
    done = subprocess.run(  # noqa: S603  fixed argv built above, no shell
        [*base, "--offline"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        done = subprocess.run(  # noqa: S603  fixed argv built above, no shell
            base, capture_output=True, text=True, check=False
        )
    if done.returncode == 0:
        return
    output = (done.stdout + done.stderr).strip()
    if "no solution found" not in output.lower() and any(
        marker in output.lower() for marker in OFFLINE_MARKERS
    ):
        session.skip(f"SKIPPED: the package index cannot be reached:\n{output[-2000:]}")
    session.error(f"installing the oldest supported versions failed:\n{output[-4000:]}")


@nox.session(python=False)
def smoke(session: nox.Session) -> None:
    """The oldest cell (Python 3.10, Dagster 1.12.13, marimo 0.23.6), a handful of live tests."""
    import os
    import re
    import shutil
    import subprocess
    from pathlib import Path

    python, why = _smoke_interpreter()
    if python is None:
        session.skip(f"SKIPPED: {why}")
    uv = shutil.which("uv")
    if uv is None:
        session.skip("SKIPPED: uv is not on PATH (it builds the smoke's environment)")
    env_dir = Path(".nox") / "smoke-env"
    # Kept between runs (the install then only checks the pins): made anew when missing or
    # made from another Python than 3.10.
    config = env_dir / "pyvenv.cfg"
    made_from = config.read_text(encoding="utf-8") if config.is_file() else ""
    if not re.search(r"^version_info = 3\.10\.", made_from, re.MULTILINE):
        created = subprocess.run(  # noqa: S603  fixed argv, no shell
            [uv, "venv", "--quiet", "--clear", "--python", python, str(env_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        if created.returncode != 0:
            session.error(f"uv venv failed:\n{created.stderr}")
    # absolute(), never resolve(): the venv's python is a symlink to the base interpreter, and
    # installing through the resolved path would install into that interpreter instead.
    env_dir = env_dir.absolute()
    env_python = str(env_dir / "bin" / "python")
    if not (env_dir / "pyvenv.cfg").is_file():
        session.error(f"uv venv made no virtual environment at {env_dir}")
    os.environ["UV_COMPILE_BYTECODE"] = "1"  # without bytecode the tests take twice as long
    _uv_install(session, uv, env_python, "-e", ".[dev]", *SMOKE_PINS)
    bin_dir = str(Path(env_python).parent)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(env_dir),
    }
    packages = ("dagster", "dagster-dg-cli", "marimo")
    versions = (
        "import importlib.metadata as m, sys;"
        f" print(sys.version.split()[0], {{p: m.version(p) for p in {packages!r}}})"
    )
    session.run(env_python, "-c", versions, env=env, external=True)
    session.run(
        env_python,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        *SMOKE_TESTS,
        *session.posargs,
        env=env,
        external=True,
    )
