"""``daglab clean``: plan, then delete, old exports, caches and (optionally) generated notebooks.

Deletion never leaves the project: every path is checked against the project root, symbolic
links are removed as links and never followed, and a notebook is removed only while it is exactly
what daglab generated.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daglab import _manifest
from daglab._errors import ValidationError
from daglab._logging import get_logger

DAY = 86400.0
EXPORT_SUFFIXES = (".html", ".html.gz")


@dataclass(frozen=True)
class Item:
    path: Path
    kind: str  # export | cache | marimo-session | notebook
    size: int
    age_days: float


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

    def consider(path: Path, kind: str, min_age: float | None) -> None:
        if not _inside(root, path):
            plan.kept.append((path, "outside the project"))
            return
        age = _age_days(path, now)
        if min_age is not None and age < min_age:
            plan.kept.append((path, f"{kind} is {age:.1f} days old (< {min_age:g})"))
            return
        plan.items.append(Item(path, kind, _size(path), age))

    if notebooks_dir.is_dir() and _inside(root, notebooks_dir):
        for path in sorted(notebooks_dir.rglob("*")):
            if "__marimo__" in path.relative_to(notebooks_dir).parts[:-1]:
                continue
            if path.name == "__marimo__" and path.is_dir() and not path.is_symlink():
                consider(path, "marimo-session", older_than)
            elif path.name.endswith(EXPORT_SUFFIXES) and (path.is_file() or path.is_symlink()):
                consider(path, "export", export_age)
    cache = root / ".daglab" / "cache"
    if cache.is_symlink():
        plan.kept.append((cache, "the cache folder is a symbolic link; not followed"))
    elif cache.is_dir():
        for path in sorted(cache.iterdir()):
            consider(path, "cache", older_than)
    if notebooks:
        for rel in sorted(_manifest.generated(root, kind="notebook")):
            path = root / rel
            if not path.exists():
                continue
            if not _manifest.is_unmodified(root, rel):
                plan.kept.append((path, "notebook changed since daglab generated it"))
                continue
            consider(path, "notebook", older_than)
    return plan


def execute(plan: CleanPlan) -> list[Item]:
    """Delete what ``plan`` lists; returns what was deleted."""
    log = get_logger("clean")
    deleted = []
    for item in plan.items:
        path = item.path
        if not _inside(plan.root, path):  # re-checked: the tree may have changed since planning
            continue
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            continue
        log.info("deleted %s %s (%d bytes)", item.kind, plan.relative(path), item.size)
        deleted.append(item)
    return deleted
