"""Which modules a command means: one by name or folder, every one of the workspace, or here."""

from __future__ import annotations

from pathlib import Path

from daglab._errors import UsageError, ValidationError


def _is_module(folder: Path) -> bool:
    from daglab._modules.meta import read_module_meta

    try:
        return folder.is_dir() and read_module_meta(folder) is not None
    except ValidationError:
        return True  # a module with a broken table: the command says what is wrong with it


def find_modules(
    cwd: Path, name: str | None, *, all_modules: bool = False, workspace: Path | None = None
) -> list[Path]:
    """The module folders meant: exit 2 when nothing names one, exit 7 for an unknown name."""
    from daglab._modules import workspace as ws_lib
    from daglab._modules.meta import read_module_meta

    found = ws_lib.find(cwd, workspace)
    candidates = [f for f in ws_lib.module_folders(found) if _is_module(f)]
    if all_modules:
        if not candidates:
            raise UsageError(
                "no module daglab generated is registered in a workspace around here",
                remediation="Run it inside the workspace, or pass --workspace.",
            )
        return candidates
    if name is None:
        for folder in (cwd.resolve(), *cwd.resolve().parents):
            if _is_module(folder):
                return [folder]
            if (folder / "pyproject.toml").is_file():
                break
        raise UsageError(
            "this folder is not inside a module daglab generated",
            remediation="Give a module NAME, or --all for every module of the workspace.",
        )
    given = Path(name)
    folder = given if given.is_absolute() else cwd / given
    if _is_module(folder):
        return [folder.resolve()]
    for candidate in candidates:
        meta = read_module_meta(candidate)
        if candidate.name == name or (meta is not None and meta.name == name):
            return [candidate]
    known = ", ".join(sorted(c.name for c in candidates)) or "none"
    raise ValidationError(
        f"no module named {name!r} here (modules: {known})",
        remediation="Give a module's name or folder, or --all.",
    )
