"""``git merge-file`` as daglab calls it, and conflict markers."""

from __future__ import annotations

import subprocess
from pathlib import Path

from daglab._modules.merge import git_changes, has_conflict_markers, merge_file

BASE = "one\ntwo\nthree\nfour\nfive\nsix\n"


def test_clean_merge_keeps_both_sides() -> None:
    mine = BASE.replace("one", "ONE")
    theirs = BASE.replace("six", "SIX")
    merged, conflicts = merge_file(mine, BASE, theirs)
    assert (merged, conflicts) == ("ONE\ntwo\nthree\nfour\nfive\nSIX\n", 0)


def test_conflict_counts_and_marks() -> None:
    merged, conflicts = merge_file(BASE.replace("three", "3"), BASE, BASE.replace("three", "III"))
    assert conflicts == 1
    assert "<<<<<<< yours\n3\n=======\nIII\n>>>>>>> template\n" in merged
    assert has_conflict_markers(merged)


def test_markers_need_both_ends() -> None:
    assert not has_conflict_markers("=======\nheading\n=======\n")
    assert not has_conflict_markers("<<<<<<< only the start\n")
    assert has_conflict_markers("<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n")


def test_git_changes(tmp_path: Path) -> None:
    assert git_changes(tmp_path) is None
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "sub").mkdir()
    assert git_changes(tmp_path / "sub") == []
    (tmp_path / "sub" / "new.py").write_text("x\n")
    (tmp_path / "elsewhere.py").write_text("y\n")
    assert git_changes(tmp_path / "sub") == ["sub/new.py"]
