"""The flags daglab passes to ``dagster dev``, ``dg dev`` and ``marimo edit`` exist in the
installed releases (each cell of ``nox -s compat`` runs this with its own versions)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._compat.commands import (
    DAGSTER_DEV_FLAGS,
    MARIMO_EDIT_FLAGS,
    dagster_dev_args,
    marimo_edit_args,
)

pytestmark = pytest.mark.slow


def help_text(*argv: str) -> str:
    """``--help`` after ``argv``: click refuses an unknown option (exit 2) before it helps."""
    done = subprocess.run(
        [*argv, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done
    return done.stdout


def test_an_unknown_flag_is_refused_even_with_help() -> None:
    """What the checks below rely on (dg hides its options from --help)."""
    done = subprocess.run(
        [sys.executable, "-m", "marimo", "edit", "--no-such-flag", "--help"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2


def test_marimo_edit_has_every_flag_daglab_passes() -> None:
    text = help_text(sys.executable, "-m", "marimo", "edit")
    assert [f for f in MARIMO_EDIT_FLAGS if f not in text] == []
    marimo = [sys.executable, "-m", "marimo"]
    for token in (True, False):
        built = marimo_edit_args(
            marimo, Path("nb.py"), host="::1", port=2718, token=token, ci=True, level="WARNING"
        )
        assert built[3:5] == ["--log-level", "WARN"]  # marimo's spelling of the level
        assert {a for a in built[5:] if a.startswith("--")} <= set(MARIMO_EDIT_FLAGS)
        help_text(*built)  # marimo accepts the whole command line


@pytest.mark.parametrize("tool", ["dagster", "dg"])
def test_dagster_dev_and_dg_dev_have_every_flag_daglab_passes(tool: str) -> None:
    exe = shutil.which(tool, path=str(Path(sys.executable).parent))
    assert exe is not None, f"{tool} is installed with daglab's dev extra"
    built = dagster_dev_args([exe, "dev"], "127.0.0.1", 3000, "DEBUG")
    assert {a for a in built if a.startswith("--")} == set(DAGSTER_DEV_FLAGS)
    assert built[-1] == "debug"
    help_text(*built)  # the whole command line is accepted
