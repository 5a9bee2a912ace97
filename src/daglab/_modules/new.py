"""``daglab module new``: generate a module (code location) and register it in its workspace.

All or nothing (``daglab._fs.undo_on_error``): a failure half-way, the workspace registration
included, removes what this run created and restores what it changed. Every file is recorded in
the module's manifest and its rendering stored as the base of later merges (``base.py``).

A second run on a module daglab generated changes nothing unless ``force``; it reports answers
that differ from the recorded ones. With ``force`` daglab renders again with the new answers
and, per file: creates what is missing, overwrites what is still exactly what it wrote, and
leaves a file the user changed alone (listed as ``kept``; ``daglab module update`` merges the
templates into those), except that the answers in ``[tool.daglab.module]`` of a changed
``pyproject.toml`` are rewritten in place so that the record says what the module was made from.
A folder daglab did not generate is never written into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from daglab import _manifest
from daglab._errors import ConflictError
from daglab._fs import Written, atomic_write, ensure_inside, mkdirs
from daglab._modules.base import read_base, write_base
from daglab._modules.meta import read_module_meta
from daglab._modules.render import Answers, check_answers, check_name, render_module

if TYPE_CHECKING:
    from daglab._workspace import Workspace

GENERATOR = "module"


@dataclass(frozen=True)
class NewOptions:
    """The answers as given (None: take the recorded one on a re-run, else the default)."""

    name: str
    template: str | None = None
    addons: tuple[str, ...] | None = None
    port: int | None = None  # None: auto
    cron: str | None = None
    timezone: str | None = None
    path: Path | None = None
    package_name: str | None = None
    workspace: Path | None = None
    cwd: Path = field(default_factory=Path.cwd)
    register: bool = True
    force: bool = False


@dataclass
class NewResult:
    root: Path
    answers: Answers
    files: list[Written] = field(default_factory=list)
    #: The module existed (a re-run), and what its recorded answers were.
    existed: bool = False
    recorded: Answers | None = None
    workspace_file: Path | None = None
    registered: bool = False
    registration: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.registered or any(
            item.action in ("created", "overwritten", "updated") for item in self.files
        )


def target_folder(options: NewOptions, workspace: Workspace | None) -> Path:
    """``--path``, else ``<workspace>/projects/<name>``, else ``./<name>``."""
    from daglab._modules.workspace import PROJECTS_DIR

    if options.path is not None:
        path = options.path if options.path.is_absolute() else options.cwd / options.path
        return path.resolve()
    if workspace is not None:
        return (workspace.root / PROJECTS_DIR / options.name).resolve()
    return (options.cwd / options.name).resolve()


def new_module(options: NewOptions) -> NewResult:
    """Generate (or, with ``force``, re-render) the module; see the module docstring."""
    from daglab._fs import undo_on_error
    from daglab._modules import workspace as ws_lib

    check_name(options.name)
    if options.path is not None:  # registered in the workspace around where it goes
        target = target_folder(options, None)
        workspace = ws_lib.find(target.parent, options.workspace)
    else:
        workspace = ws_lib.find(options.cwd, options.workspace)
        target = target_folder(options, workspace)
    recorded = _recorded(target)
    answers = _answers(options, target, workspace, recorded)
    result = NewResult(root=target, answers=answers, existed=recorded is not None)
    result.recorded = recorded
    result.workspace_file = workspace.file if workspace is not None else None
    rendered = render_module(answers)
    if recorded is not None and not options.force:
        result.files = [_state(target, rel, text) for rel, text in sorted(rendered.items())]
        if recorded != answers:
            result.notes.append(
                "the module was generated with other answers; nothing changed (pass --force to"
                " render it again with these, or edit [tool.daglab.module] and run"
                " `daglab module update`)"
            )
        if workspace is not None and options.register:
            would, message = ws_lib.register(workspace, target, dry_run=True)
            if would:
                result.notes.append(f"not registered in {workspace.file}: pass --force to add it")
            else:
                result.registration = message
        return result
    with undo_on_error():
        _write(target, answers, rendered, result, recorded is not None)
        if workspace is not None and options.register:
            result.registered, result.registration = ws_lib.register(workspace, target)
    return result


def _recorded(target: Path) -> Answers | None:
    """The answers a module daglab generated at ``target`` was made with; None for no module.

    A folder that exists, is not empty and is not such a module is refused (exit 8).
    """
    if not target.exists():
        return None
    if not target.is_dir():
        raise ConflictError(
            f"{target} exists and is not a folder", remediation="Pick another --path."
        )
    meta = read_module_meta(target)
    base = read_base(target)
    if meta is not None and base is not None:
        return base.answers.with_meta(meta)
    if meta is not None:
        raise ConflictError(
            f"{target} is a module daglab generated, but its stored base"
            " (.daglab/module-base/) is missing; left untouched",
            remediation="Restore .daglab/module-base/ from git (it is committed with the module).",
        )
    if any(target.iterdir()):
        raise ConflictError(
            f"{target} exists and is not a module daglab generated; left untouched",
            remediation="Choose another name or --path (daglab writes only into a new folder"
            " or a module it made).",
        )
    return None


def _answers(
    options: NewOptions, target: Path, workspace: Workspace | None, recorded: Answers | None
) -> Answers:
    from daglab._modules import workspace as ws_lib
    from daglab._modules.ports import choose_port, used_ports
    from daglab._modules.render import DEFAULT_CRON, DEFAULT_TIMEZONE
    from daglab._scaffold.project import package_name_for

    def pick(given: str | None, old: str | None, default: str) -> str:
        return given if given is not None else old if old is not None else default

    package = (
        package_name_for(options.package_name)
        if options.package_name
        else (recorded.package if recorded else package_name_for(options.name))
    )
    used = used_ports(
        ws_lib.module_folders(workspace, exclude=target), ws_lib.grpc_ports(workspace)
    )
    port = choose_port(options.port, used, keep=recorded.port if recorded else None)
    addons = options.addons if options.addons is not None else (recorded.addons if recorded else ())
    return check_answers(
        Answers(
            name=options.name,
            package=package,
            template=pick(options.template, recorded.template if recorded else None, "standard"),
            addons=tuple(addons),
            port=port,
            cron=pick(options.cron, recorded.cron if recorded else None, DEFAULT_CRON),
            timezone=pick(
                options.timezone, recorded.timezone if recorded else None, DEFAULT_TIMEZONE
            ),
            project_name=target.name,
        )
    )


def _state(root: Path, rel: PurePosixPath, text: str) -> Written:
    path = root / rel
    if not path.is_file():
        return Written(path, "missing")
    same = path.read_text(encoding="utf-8", errors="replace") == text
    return Written(path, "unchanged" if same else "kept")


def _write(
    target: Path,
    answers: Answers,
    rendered: dict[PurePosixPath, str],
    result: NewResult,
    existed: bool,
) -> None:
    mkdirs(target)
    base_files: dict[str, str] = {}
    for rel, text in sorted(rendered.items()):
        path = target / rel
        key = rel.as_posix()
        ensure_inside(target, path)  # never through a link out of the module
        if path.is_symlink() or path.is_dir():
            raise ConflictError(f"{path} is a link or a folder; daglab writes only regular files")
        if not path.exists():
            atomic_write(path, text)
            result.files.append(Written(path, "created"))
        elif path.read_text(encoding="utf-8", errors="replace") == text:
            result.files.append(Written(path, "unchanged"))
        elif _manifest.is_unmodified(target, key):
            atomic_write(path, text)
            result.files.append(Written(path, "overwritten"))
        else:
            if key == "pyproject.toml":
                _rewrite_answers(path, answers)
                result.files.append(Written(path, "updated"))
            else:
                result.files.append(Written(path, "kept"))
            result.notes.append(
                f"{key} was changed by you and is kept; `daglab module update` merges the"
                " template into it"
            )
            continue
        base_files[key] = text
    ours = [item for item in result.files if item.action in ("created", "overwritten")]
    _manifest.record(target, ours, generator=GENERATOR, kind=f"module:{answers.template}")
    stored = write_base(target, answers, base_files)
    _manifest.record(target, stored, generator=GENERATOR, kind="module-base")
    if existed:
        result.notes.append("rendered again with --force")


def _rewrite_answers(path: Path, answers: Answers) -> None:
    """Set ``[tool.daglab.module]`` in a pyproject.toml the user edited, keeping the rest."""
    import tomlkit

    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    tool = document.setdefault("tool", tomlkit.table())
    daglab = tool.setdefault("daglab", tomlkit.table())
    module = daglab.setdefault("module", tomlkit.table())
    table = answers.meta().to_table()
    for key in [key for key in module if key not in table]:
        del module[key]
    for key, value in table.items():
        module[key] = value  # key by key: the user's comments in the table stay
    atomic_write(path, tomlkit.dumps(document))
