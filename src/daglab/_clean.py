"""``daglab clean``: plan, then delete, what daglab provably made and marimo's session caches.

What may go:

* exports the manifest records (``daglab._owned``), inside the project, still with the content
  daglab wrote, older than ``export.retention_days`` (or ``--older-than``);
* marimo's session snapshots, ``<notebook folder>/__marimo__/session/<notebook>.py.json`` (the
  layout of marimo's ``get_session_cache_file``), by the same age rule; marimo's ``cache/`` (a
  user's ``mo.persistent_cache``) and ``assets/`` are not daglab's to judge and stay;
* daglab's own cache, ``.daglab/cache/`` (older than ``--older-than`` when given);
* temporary files ``atomic_write`` left in ``.daglab/`` or beside a recorded file when a
  process was killed mid-write, once older than a minute (a younger one may be a write in
  progress);
* with ``--notebooks``, generated notebooks that are still exactly what daglab generated.

Nothing else: an HTML file is not an export because of its name. The search for session caches
never enters virtualenvs (a folder with ``pyvenv.cfg``), ``.git``, ``node_modules`` or
``site-packages``, nor follows links; every path is checked against the project root and links
are removed as links.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daglab import _manifest
from daglab._errors import ValidationError
from daglab._logging import get_logger

DAY = 86400.0
EXPORT_SUFFIXES = (".html", ".html.gz")
#: A temporary file younger than this may belong to a write still in progress.
TEMP_GRACE_S = 60.0
#: Folders the search for marimo's session caches never enters.
NEVER_ENTER = frozenset({".git", "node_modules", "site-packages", "__pycache__", ".daglab"})
MARIMO_DIR = "__marimo__"
SESSION_DIR = "session"


@dataclass(frozen=True)
class Item:
    path: Path
    kind: str  # export | cache | marimo-session | notebook | temp
    size: int
    age_days: float
    #: The manifest entry to forget once the file is gone.
    key: str | None = None


@dataclass
class CleanPlan:
    root: Path
    items: list[Item] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.items)

    def to_dict(self, *, deleted: bool) -> dict[str, Any]:
        rel = self.relative
        return {
            "root": str(self.root),
            "deleted": deleted,
            "total_bytes": self.total_bytes,
            "items": [
                {
                    "path": rel(i.path),
                    "kind": i.kind,
                    "bytes": i.size,
                    "age_days": round(i.age_days, 2),
                }
                for i in self.items
            ],
            "kept": [{"path": rel(p), "reason": reason} for p, reason in self.kept],
        }

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_symlink() and p.is_file())


def _age_days(path: Path, now: float) -> float:
    return max(0.0, (now - path.lstat().st_mtime) / DAY)


def _inside(root: Path, path: Path) -> bool:
    """True when ``path`` itself (its folder resolved, the entry not followed) is in ``root``."""
    try:
        (path.parent.resolve() / path.name).relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _never_enter(folder: Path) -> bool:
    return folder.name in NEVER_ENTER or (folder / "pyvenv.cfg").exists()


def session_caches(folder: Path) -> Iterator[Path]:
    """marimo's session snapshots under ``folder``: ``__marimo__/session/*.json`` files."""
    for current, dirs, _files in os.walk(folder):  # does not follow links
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if d == MARIMO_DIR or not _never_enter(here / d))
        if here.name != MARIMO_DIR:
            continue
        dirs[:] = []  # marimo's own folder: only its session/ is ours to look at
        sessions = here / SESSION_DIR
        if sessions.is_symlink() or not sessions.is_dir():
            continue
        for entry in sorted(sessions.iterdir()):
            if entry.name.endswith(".json") and not entry.is_symlink() and entry.is_file():
                yield entry


def leftover_temp_files(root: Path) -> Iterator[Path]:
    """What ``atomic_write`` leaves when killed: ``.<name>.<random>.tmp``, in ``.daglab/`` and
    beside every file the manifest records (an export, a notebook) inside the project."""
    from daglab._fs import temp_name_prefix

    daglab = root / ".daglab"
    if not daglab.is_symlink() and daglab.is_dir():
        for entry in sorted(daglab.iterdir()):
            name = entry.name
            temp = name.startswith(".") and name.endswith(".tmp") and name.count(".") >= 3
            if temp and not entry.is_symlink() and entry.is_file():
                yield entry
    for key in sorted(_manifest.generated(root)):
        path = _manifest.path_for(root, key)
        if not _inside(root, path) or path.parent.is_symlink() or not path.parent.is_dir():
            continue
        for entry in sorted(path.parent.glob(f"{glob.escape(temp_name_prefix(path))}*.tmp")):
            if not entry.is_symlink() and entry.is_file():
                yield entry


def plan_clean(
    *,
    root: Path,
    notebooks_dir: Path,
    retention_days: int,
    older_than: float | None = None,
    notebooks: bool = False,
    now: float | None = None,
) -> CleanPlan:
    if older_than is not None and older_than < 0:
        raise ValidationError(f"--older-than must be 0 or more days, not {older_than}")
    now = time.time() if now is None else now
    root = root.resolve()
    plan = CleanPlan(root=root)
    export_age = retention_days if older_than is None else older_than

    def consider(path: Path, kind: str, min_age: float | None, key: str | None = None) -> None:
        if not _inside(root, path):
            plan.kept.append((path, "outside the project"))
            return
        age = _age_days(path, now)
        if min_age is not None and age < min_age:
            plan.kept.append((path, f"{kind} is {age:.1f} days old (< {min_age:g})"))
            return
        plan.items.append(Item(path, kind, _size(path), age, key))

    for key, info in sorted(_manifest.generated(root, kind="export").items()):
        path = _manifest.path_for(root, key)
        if not path.exists() and not path.is_symlink():
            continue
        if not _inside(root, path):
            continue  # an export the user sent elsewhere is theirs to remove
        if not _manifest.is_unmodified(root, key, info):
            plan.kept.append((path, "export changed since daglab wrote it"))
            continue
        consider(path, "export", export_age, key)
    if notebooks_dir.is_dir() and _inside(root, notebooks_dir):
        for path in session_caches(notebooks_dir):
            consider(path, "marimo-session", export_age)
    cache = root / ".daglab" / "cache"
    if cache.is_symlink():
        plan.kept.append((cache, "the cache folder is a symbolic link; not followed"))
    elif cache.is_dir():
        for path in sorted(cache.iterdir()):
            consider(path, "cache", older_than)
    for path in dict.fromkeys(leftover_temp_files(root)):
        consider(path, "temp", TEMP_GRACE_S / DAY)
    if notebooks:
        for rel in sorted(_manifest.generated(root, kind="notebook")):
            path = root / rel
            if not path.exists():
                continue
            if not _manifest.is_unmodified(root, rel):
                plan.kept.append((path, "notebook changed since daglab generated it"))
                continue
            consider(path, "notebook", older_than, rel)
    return plan


def execute(plan: CleanPlan) -> list[Item]:
    """Delete what ``plan`` lists; returns what was deleted."""
    log = get_logger("clean")
    deleted = []
    for item in plan.items:
        path = item.path
        if not _inside(plan.root, path):  # re-checked: the tree may have changed since planning
            continue
        if item.key is not None and not _manifest.is_unmodified(plan.root, item.key):
            continue  # changed since planning: no longer provably daglab's
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            continue
        if item.kind == "marimo-session":
            _remove_if_empty(path.parent, path.parent.parent)
        log.info("deleted %s %s (%d bytes)", item.kind, plan.relative(path), item.size)
        deleted.append(item)
    _manifest.forget(plan.root, [item.key for item in deleted if item.key is not None])
    return deleted


def _remove_if_empty(*folders: Path) -> None:
    """``__marimo__/session`` and ``__marimo__`` once their last session file went."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
