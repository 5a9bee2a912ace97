"""Three-way merges with ``git merge-file``, conflict markers, and whether git sees edits.

``git merge-file`` is a correct three-way merge whose exit status is the number of conflicts;
the pure-Python alternatives are GPL or exit 0 on conflicts (copier), so daglab calls git.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from daglab._errors import EnvironmentMissingError

LABELS = ("yours", "base", "template")
_START = re.compile(r"^<{7}(?: |$)", re.M)
_END = re.compile(r"^>{7}(?: |$)", re.M)


def _git() -> str:
    from daglab._host import find_executable

    git = find_executable("git")
    if git is None:
        raise EnvironmentMissingError(
            "git is not installed; daglab merges templates with `git merge-file`",
            remediation="Install git (apt-get install git, brew install git) and run it again.",
        )
    return str(git)


def merge_file(current: str, base: str, new: str) -> tuple[str, int]:
    """Merge the changes from ``base`` to ``new`` into ``current``: (result, conflicts)."""
    with tempfile.TemporaryDirectory(prefix="daglab-merge-") as folder:
        paths = []
        for label, text in zip(LABELS, (current, base, new), strict=True):
            path = Path(folder) / label
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        done = subprocess.run(  # noqa: S603  git with arguments daglab built
            [_git(), "merge-file", "-p", *labels, *paths],
            capture_output=True,
            check=False,
        )
    if done.returncode < 0 or done.returncode > 127:
        raise EnvironmentMissingError(
            f"git merge-file failed: {done.stderr.decode(errors='replace').strip()}",
            remediation="Check that git works (`git --version`).",
        )
    return done.stdout.decode("utf-8"), done.returncode


def has_conflict_markers(text: str) -> bool:
    """Whether ``text`` still holds a conflict a merge left (a ``<<<<<<<`` and ``>>>>>>>`` line)."""
    return bool(_START.search(text) and _END.search(text))


def git_changes(folder: Path) -> list[str] | None:
    """Paths under ``folder`` that git sees as changed or untracked, or None outside git."""
    git = _git()
    inside = subprocess.run(  # noqa: S603  git with arguments daglab built
        [git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    status = subprocess.run(  # noqa: S603  git with arguments daglab built
        [git, "-C", str(folder), "status", "--porcelain", "--untracked-files=all", "--", "."],
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0:
        return None
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]
