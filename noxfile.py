"""The compatibility matrix: daglab's live-server tests with the oldest and newest supported
Dagster minor and marimo, on Python 3.10 and 3.13.

    uvx nox -s compat                 # all eight cells (about 19 minutes each on 2 cores)
    uvx nox -s compat-3.10 -- -x      # the four Python 3.10 cells; arguments go to pytest
    uvx nox -l                        # the cells by name

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
