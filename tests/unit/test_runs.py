"""Where launches take their lock: the project's .daglab/ when it has one, else one per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from daglab._runs import launch_lock_path


def test_a_project_with_daglab_dir_locks_there(git_project: Path) -> None:
    (git_project / "daglab.yaml").write_text("version: '1.0'\n")
    (git_project / ".daglab").mkdir()
    (git_project / "sub").mkdir()
    assert launch_lock_path(git_project / "sub") == git_project / ".daglab" / "launch.lock"


def test_elsewhere_the_lock_is_per_user_and_makes_no_daglab_dir(
    git_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert launch_lock_path(git_project) == tmp_path / "cache" / "daglab" / "launch.lock"
    assert not (git_project / ".daglab").exists()
