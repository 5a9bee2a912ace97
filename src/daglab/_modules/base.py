"""The stored base: each file as daglab rendered it, kept in the module for three-way merges.

``<module>/.daglab/module-base/files/<path>.base`` holds the rendering of ``<path>`` that the
module's file started from (the suffix keeps git, ruff and pytest from taking a stored
``.gitignore`` or ``test_*.py`` for a live one), and ``.daglab/module-base/base.json`` the
answers, the template version and the daglab version it was rendered with. The module's
``.gitignore`` keeps this folder committed (``!.daglab/module-base/``), so a teammate's
``daglab module update`` merges from the same base.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from daglab._errors import ConfigError
from daglab._fs import Journal, Written, atomic_write, ensure_inside
from daglab._modules.render import TEMPLATE_VERSION, Answers

BASE_DIR = PurePosixPath(".daglab/module-base")
FILES_DIR = BASE_DIR / "files"
INFO = BASE_DIR / "base.json"
SUFFIX = ".base"


@dataclass(frozen=True)
class Base:
    """What the module's files were rendered from, and those renderings."""

    answers: Answers
    template_version: int
    daglab_version: str
    files: dict[str, str]


def _safe_relative(text: str, source: Path) -> str:
    path = PurePosixPath(text)
    if not text or path.is_absolute() or ".." in path.parts or "\\" in text or "\x00" in text:
        raise ConfigError(
            f"{source}: {text!r} is not a path inside the module",
            remediation="Restore .daglab/module-base/ from git, or regenerate the module.",
        )
    return path.as_posix()


def read_base(module: Path) -> Base | None:
    """The stored base, or None when the module has none (made before, or by hand)."""
    info_path = module / INFO
    if not info_path.is_file():
        return None
    try:
        info: dict[str, Any] = json.loads(info_path.read_text(encoding="utf-8"))
        answers = Answers.from_dict(info["answers"])
        listed = [_safe_relative(str(rel), info_path) for rel in info["files"]]
        version = int(info.get("template_version", 0))
        daglab_version = str(info.get("daglab_version", ""))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{info_path} is not readable: {exc}",
            remediation="Restore .daglab/module-base/ from git, or regenerate the module.",
        ) from exc
    files: dict[str, str] = {}
    for rel in listed:
        stored = module / FILES_DIR / (rel + SUFFIX)
        if stored.is_file() and not stored.is_symlink():
            files[rel] = stored.read_text(encoding="utf-8")
    return Base(answers, version, daglab_version, files)


def write_base(
    module: Path,
    answers: Answers,
    files: Mapping[str, str],
    *,
    drop: Iterable[str] = (),
    journal: Journal | None = None,
) -> list[Written]:
    """Store ``files`` (path -> rendering) as the base, keep the other stored files (minus
    ``drop``), and record ``answers`` and the current template and daglab versions.

    ``journal`` (of ``undo_on_error``) brings a dropped file back if the run fails later."""
    from daglab._version import __version__

    previous = read_base(module)
    kept = dict(previous.files) if previous else {}
    for rel in drop:
        kept.pop(rel, None)
        stale = module / FILES_DIR / (rel + SUFFIX)
        if stale.is_file() and ensure_inside(module, stale):
            if journal is not None:
                journal.before_write(stale)
            stale.unlink()
    written: list[Written] = []
    for rel, content in sorted(files.items()):
        path = module / FILES_DIR / (_safe_relative(rel, module / INFO) + SUFFIX)
        ensure_inside(module, path)  # never through a link out of the module
        if kept.get(rel) == content and path.is_file():
            continue
        existed = path.exists()
        atomic_write(path, content)
        written.append(Written(path, "overwritten" if existed else "created"))
        kept[rel] = content
    info = {
        "answers": answers.to_dict(),
        "template_version": TEMPLATE_VERSION,
        "daglab_version": __version__,
        "files": sorted(kept),
    }
    text = json.dumps(info, indent=2, sort_keys=True) + "\n"
    info_path = module / INFO
    if not info_path.is_file() or info_path.read_text(encoding="utf-8") != text:
        existed = info_path.exists()
        atomic_write(info_path, text)
        written.append(Written(info_path, "overwritten" if existed else "created"))
    return written
