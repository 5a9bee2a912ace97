"""What daglab asks git to ignore in a project, and whether git would hide a notebook.

Under ``.daglab/`` only ``templates/`` (a team's own notebook templates) is meant to be committed.
Everything else there is this working copy's: the log, the cache, ``last_ports.json``, the locks,
``history.jsonl`` (in-process runs and exports made here) and ``manifest.json``. The manifest
records what daglab generated *in this copy* (with timestamps, the last notebook, and absolute
paths of exports sent elsewhere): committed, a teammate's ``daglab clean`` would treat a notebook
their daglab never wrote as its own, and every export would change a tracked file. Ignoring
``.daglab/*`` but ``templates/`` also covers files a later version adds.

HTML exports are ignored at any depth of the notebooks folder (``assets/<key>/…``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def pattern_path(relative: str) -> str | None:
    """``relative`` (a POSIX path) as a literal gitignore path, or None when it cannot be one
    (a line break, or ``..``)."""
    if not relative or "\n" in relative or "\r" in relative or ".." in relative.split("/"):
        return None
    if relative == ".":
        return ""
    escaped = re.sub(r"([\\*?\[\]])", r"\\\1", relative.strip("/"))
    if escaped.startswith(("#", "!")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def gitignore_entries(notebooks_rel: str) -> list[str]:
    """The lines ``daglab init`` makes sure ``.gitignore`` has."""
    entries = [".daglab/*", "!.daglab/templates/"]
    base = pattern_path(notebooks_rel)
    if base is not None:
        prefix = f"{base}/" if base else ""
        entries += [
            f"{prefix}**/*.html",
            f"{prefix}**/*.html.gz",
            f"{prefix}**/.ipynb_checkpoints/",
        ]
    entries.append("__marimo__/")
    return entries


@dataclass(frozen=True)
class IgnoreRule:
    """A rule of an ignore file that hides some paths."""

    source: str
    line: int
    pattern: str
    paths: tuple[str, ...]

    def describe(self) -> str:
        shown = ", ".join(self.paths[:3]) + (" …" if len(self.paths) > 3 else "")
        return (
            f"git ignores {shown} (rule `{self.pattern}` at {self.source}:{self.line}):"
            " notebooks there would not be committed"
        )


def hidden_by_git(root: Path, paths: Sequence[Path], *, timeout: float = 10.0) -> list[IgnoreRule]:
    """The rules that make git ignore any of ``paths`` (inside ``root``), one per rule.

    Asks ``git check-ignore``, so every ignore source git reads counts (``.gitignore`` files at
    any level, ``.git/info/exclude``, the global excludes file). Nothing when git is missing,
    ``root`` is not in a git repository, or the question fails.
    """
    import shutil

    git = shutil.which("git")
    if git is None:
        return []
    relative = []
    resolved_root = root.resolve()
    for path in paths:
        try:
            rel = path.resolve().relative_to(resolved_root).as_posix()
        except ValueError:
            continue
        if rel != "." and "\n" not in rel:
            relative.append(rel + ("/" if path.is_dir() else ""))
    if not relative:
        return []
    try:
        done = subprocess.run(  # noqa: S603  fixed argv (git from PATH), no shell
            [git, "check-ignore", "--verbose", "-z", "--stdin"],
            cwd=root,
            input="\0".join(relative) + "\0",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:  # 1: nothing ignored; 128: not a repository, or an error
        return []
    fields = done.stdout.split("\0")
    rules: dict[tuple[str, str, str], list[str]] = {}
    for index in range(0, len(fields) - 3, 4):
        source, line, pattern, hidden = fields[index : index + 4]
        if not source or pattern.startswith("!"):  # a negated rule matched: not ignored
            continue
        rules.setdefault((source, line, pattern), []).append(hidden)
    return [
        IgnoreRule(source, int(line) if line.isdigit() else 0, pattern, tuple(found))
        for (source, line, pattern), found in rules.items()
    ]


def ignore_warnings(root: Path, paths: Sequence[Path]) -> list[str]:
    """A warning for each ignore rule that hides one of ``paths``, with what to do."""
    return [
        rule.describe() + ". Remove or narrow that rule (or add a `!` rule for the notebooks"
        " folder), or keep notebooks elsewhere with --notebooks-dir / notebooks_dir."
        for rule in hidden_by_git(root, paths)
    ]
