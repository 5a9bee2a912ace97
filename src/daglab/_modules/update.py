"""``daglab module update``: re-apply the current templates to modules daglab generated.

For each file, a three-way merge (``git merge-file``) of the stored base (what daglab rendered
when the file was last written), the user's file, and the current rendering of the recorded
answers (``[tool.daglab.module]``, so editing ``cron`` there and updating re-renders the
schedule). A file the user did not touch simply becomes the new rendering; a file the template
did not change stays as the user has it; a new template file is added; a file the template no
longer has is removed only while it is unchanged; a file the user deleted stays deleted.

Before anything changes, every module is checked: a git work tree with uncommitted changes
under the module, or conflict markers left in one of its files, refuse the whole run (exit 8).
A merge that conflicts leaves git's markers in the file (``<<<<<<< yours`` / ``>>>>>>>
template``) and the command exits 8, listing the files. The stored base becomes the new
rendering for every file the update wrote, the conflicted ones included: the markers already
hold the template's side, so once resolved the file is current and the next update does not
ask the same question again (it refuses while markers remain).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from daglab import _manifest
from daglab._errors import ConflictError, ValidationError
from daglab._fs import Journal, Written, atomic_write, ensure_inside
from daglab._modules.base import Base, read_base, write_base
from daglab._modules.merge import git_changes, has_conflict_markers, merge_file
from daglab._modules.meta import read_module_meta
from daglab._modules.render import Answers, render_module

GENERATOR = "module"


@dataclass(frozen=True)
class FileUpdate:
    """What the update does to one file.

    ``added`` (new template file), ``updated`` (unchanged by you: the new rendering),
    ``merged`` (your edits and the template's, cleanly), ``conflict`` (markers left),
    ``removed`` (dropped by the template, unchanged by you), ``kept`` (yours: the template
    dropped it or you deleted it), ``unchanged``.
    """

    path: str
    action: str
    before: str | None = None
    after: str | None = None

    def diff(self) -> str:
        """The change as a unified diff (empty when none)."""
        if self.before == self.after:
            return ""
        return "".join(
            difflib.unified_diff(
                (self.before or "").splitlines(keepends=True),
                (self.after or "").splitlines(keepends=True),
                fromfile=f"a/{self.path}" if self.before is not None else "/dev/null",
                tofile=f"b/{self.path}" if self.after is not None else "/dev/null",
            )
        )


@dataclass
class ModuleUpdate:
    root: Path
    name: str
    files: list[FileUpdate] = field(default_factory=list)
    dry_run: bool = False

    @property
    def conflicts(self) -> list[str]:
        return [item.path for item in self.files if item.action == "conflict"]

    @property
    def changed(self) -> bool:
        return any(item.before != item.after for item in self.files)


def check_ready(root: Path, *, check_git: bool = True) -> tuple[Answers, Base]:
    """The module's answers and base, or the reason it cannot be updated now (7 or 8).

    ``check_git``: refuse uncommitted changes (a dry run, which writes nothing, skips that).
    """
    meta = read_module_meta(root)
    base = read_base(root)
    if meta is None or base is None:
        raise ValidationError(
            f"{root} is not a module daglab generated (no [tool.daglab.module] in pyproject.toml"
            " or no .daglab/module-base/)",
            remediation="Only modules made by `daglab module new` can be updated.",
        )
    answers = base.answers.with_meta(meta)
    marked = conflicted_files(
        root, set(base.files) | {p.as_posix() for p in render_module(answers)}
    )
    if marked:
        raise ConflictError(
            f"{root.name}: conflict markers are left in {', '.join(marked)}",
            remediation="Resolve them (remove the <<<<<<< ======= >>>>>>> lines), commit, and"
            " run `daglab module update` again.",
            files=marked,
        )
    dirty = git_changes(root) if check_git else None
    if dirty:
        shown = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
        raise ConflictError(
            f"{root.name}: the git work tree has uncommitted changes ({shown})",
            remediation="Commit or stash them first, so the update can be reviewed and undone"
            " with git.",
            files=dirty,
        )
    return answers, base


def conflicted_files(root: Path, paths: set[str]) -> list[str]:
    """Those of ``paths`` (relative to ``root``) whose file holds conflict markers."""
    found = []
    for rel in sorted(paths):
        text = _read(root / rel)
        if text is not None and has_conflict_markers(text):
            found.append(rel)
    return found


def _read(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def plan(root: Path, answers: Answers, base: Base) -> list[FileUpdate]:
    """What updating ``root`` would do to each file; writes nothing."""
    rendered = {rel.as_posix(): text for rel, text in render_module(answers).items()}
    plans: list[FileUpdate] = []
    for rel in sorted(set(base.files) | set(rendered)):
        old, new = base.files.get(rel), rendered.get(rel)
        path = root / rel
        current = _read(path)
        if current is None and (path.exists() or path.is_symlink()):
            plans.append(FileUpdate(rel, "kept"))  # a folder, a link, not text: not ours
        elif current is None:
            if new is None:
                continue
            plans.append(
                FileUpdate(rel, "added", None, new) if old is None else FileUpdate(rel, "kept")
            )
        elif new is None:
            gone = old is not None and current == old
            plans.append(
                FileUpdate(rel, "removed" if gone else "kept", current, None if gone else current)
            )
        elif current == new or old == new:
            plans.append(FileUpdate(rel, "unchanged", current, current))
        elif old == current:
            plans.append(FileUpdate(rel, "updated", current, new))
        else:
            merged, conflicts = merge_file(current, old or "", new)
            plans.append(FileUpdate(rel, "conflict" if conflicts else "merged", current, merged))
    return plans


def update_modules(roots: list[Path], *, dry_run: bool = False) -> list[ModuleUpdate]:
    """Update each module (all checked first, see the module docstring); conflicts are in the
    results, for the caller to list and exit 8 on."""
    from daglab._fs import undo_on_error

    ready = [(root, *check_ready(root, check_git=not dry_run)) for root in roots]
    results = []
    for root, answers, base in ready:
        result = ModuleUpdate(root, answers.name, plan(root, answers, base), dry_run)
        if not dry_run:
            with undo_on_error() as journal:
                _apply(root, answers, result, journal)
        results.append(result)
    return results


def _apply(root: Path, answers: Answers, result: ModuleUpdate, journal: Journal) -> None:
    rendered = {rel.as_posix(): text for rel, text in render_module(answers).items()}
    written: list[Written] = []
    removed: list[str] = []
    base_files: dict[str, str] = {}
    dropped: list[str] = []
    for item in result.files:
        if item.action in ("added", "updated", "merged", "conflict", "removed"):
            ensure_inside(root, root / item.path)  # never through a link out of the module
        if item.action in ("added", "updated", "merged", "conflict"):
            assert item.after is not None  # noqa: S101  planned with content
            atomic_write(root / item.path, item.after)
            written.append(
                Written(root / item.path, "created" if item.before is None else "overwritten")
            )
        elif item.action == "removed":
            journal.before_write(root / item.path)  # a failure later puts it back
            (root / item.path).unlink()
            removed.append(item.path)
        if item.path in rendered:
            base_files[item.path] = rendered[item.path]
        else:
            dropped.append(item.path)
    # only what is exactly daglab's rendering counts as daglab's in the manifest
    ours = [
        w for w in written if w.path.read_text(encoding="utf-8") == rendered.get(_rel(root, w.path))
    ]
    _manifest.record(root, ours, generator=GENERATOR, kind=f"module:{answers.template}")
    _manifest.forget(root, removed)
    stored = write_base(root, answers, base_files, drop=dropped, journal=journal)
    _manifest.record(root, stored, generator=GENERATOR, kind="module-base")


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
