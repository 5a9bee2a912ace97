"""The command lines daglab builds for Dagster's and marimo's own CLIs, and the flags they use.

Every flag here exists in every tested release (Dagster 1.12.13 to 1.13, marimo 0.23.6 to 0.25;
marimo's have been stable since 0.18.4). ``tests/integration/test_compat_commands.py`` runs each
tool's ``--help`` in the test environment, so a matrix cell with a release that dropped or renamed
one fails there, not in a user's terminal.
"""

from __future__ import annotations

from pathlib import Path

#: marimo spells one of Python's logging levels differently.
_MARIMO_LEVELS = {"WARNING": "WARN"}

#: Flags of ``dagster dev`` / ``dg dev`` that daglab passes.
DAGSTER_DEV_FLAGS = ("--host", "--port", "--log-level")
#: Flags of ``marimo edit`` that daglab passes (``--log-level`` is marimo's own, before ``edit``).
MARIMO_EDIT_FLAGS = (
    "--watch",
    "--headless",
    "--host",
    "--port",
    "--token-password-file",
    "--no-token",
    "--skip-update-check",
)


def dev_command_name(project_kind: str, dg_found: bool) -> str:
    """``dg dev`` serves dg projects and workspaces when dg is installed; else ``dagster dev``."""
    serves_dg = dg_found and project_kind in ("dg-project", "dg-workspace")
    return "dg dev" if serves_dg else "dagster dev"


def dagster_dev_args(argv: list[str], host: str, port: int, level: str | None) -> list[str]:
    """``dagster dev``/``dg dev`` serving on ``host``:``port``, at ``level`` if given."""
    args = [*argv, "--host", host, "--port", str(port)]
    return [*args, "--log-level", level.lower()] if level else args


def marimo_edit_args(
    argv: list[str],
    notebook: Path,
    *,
    host: str,
    port: int,
    token: bool,
    ci: bool,
    level: str | None,
) -> list[str]:
    """``marimo edit`` of ``notebook``, headless, reloading on change, its token read on stdin."""
    args = list(argv)
    if level:
        args += ["--log-level", _MARIMO_LEVELS.get(level, level)]
    args += ["edit", str(notebook), "--watch", "--headless", "--host", host, "--port", str(port)]
    args += ["--token-password-file", "-"] if token else ["--no-token"]
    if ci:
        args.append("--skip-update-check")
    return args
