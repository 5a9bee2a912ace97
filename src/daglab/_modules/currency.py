"""How current a generated module is: for ``daglab audit``'s template-currency check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daglab._errors import ValidationError


@dataclass(frozen=True)
class Currency:
    """A module against its stored base and the templates of the daglab installed now.

    ``modified``: files that differ from the base (the user's edits; a deleted file counts).
    ``behind``: the current templates render something other than the base, so
    ``daglab module update`` has changes to bring. ``conflicts``: files with conflict markers
    left. ``has_base``: False for a module whose ``.daglab/module-base/`` is missing (then
    nothing else can be told). ``template_version``: the version it was last rendered with.
    """

    modified: tuple[str, ...] = ()
    behind: bool = False
    conflicts: tuple[str, ...] = ()
    has_base: bool = True
    template_version: int | None = None
    behind_files: tuple[str, ...] = ()


def module_currency(project: Path) -> Currency:
    """The currency of the module at ``project``; ValidationError (exit 7) when it is not a
    module daglab generated (no ``[tool.daglab.module]``)."""
    from daglab._modules.base import read_base
    from daglab._modules.meta import read_module_meta
    from daglab._modules.render import render_module
    from daglab._modules.update import conflicted_files

    meta = read_module_meta(project)
    if meta is None:
        raise ValidationError(
            f"{project} is not a module daglab generated (no [tool.daglab.module])",
            remediation="Template currency applies to modules made by `daglab module new`.",
        )
    base = read_base(project)
    if base is None:
        return Currency(has_base=False)
    # rendered as the base's daglab recorded itself: only a template change makes it "behind"
    answers = base.answers.with_meta(meta)
    rendered = {
        rel.as_posix(): text
        for rel, text in render_module(answers, daglab_version=base.daglab_version).items()
    }
    modified = []
    for rel, text in sorted(base.files.items()):
        path = project / rel
        try:
            current = path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            current = None
        if current != text:
            modified.append(rel)
    behind = tuple(
        rel
        for rel in sorted(set(rendered) | set(base.files))
        if rendered.get(rel) != base.files.get(rel)
    )
    return Currency(
        modified=tuple(modified),
        behind=bool(behind),
        conflicts=tuple(conflicted_files(project, set(base.files) | set(rendered))),
        template_version=base.template_version,
        behind_files=behind,
    )
