"""Finding the project's code and importing it afresh: sources, import roots, module reloads.

A *source* is one place definitions come from: a dotted module or a file, with the folders to
put on ``sys.path``. A project can have several (one per ``workspace.yaml`` location); the
in-process run looks for its target in each, in the order ``dagster dev`` loads them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from daglab._errors import ValidationError
from daglab._project import Project, WorkspaceEntry, workspace_entries

_IMPORT_REMEDIATION = (
    "Check module= (or [tool.dagster] module_name in pyproject.toml); "
    "is the project installed in this environment?"
)
_LIBRARY_DIRS = ("site-packages", "dist-packages")
#: Never forgotten between calls, even when their files lie inside the project root.
_PROTECTED_PACKAGES = frozenset({"daglab", "dagster", "__main__", "__mp_main__"})


@dataclass(frozen=True)
class _Source:
    """Where the definitions come from: a dotted module or a file, plus import roots."""

    label: str
    origin: str
    module: str | None = None
    file: Path | None = None
    attribute: str | None = None
    paths: tuple[Path, ...] = ()
    #: The workspace.yaml location this source is, when it is one.
    location: str | None = None


def _import_roots(project: Project, working_directory: str | None = None) -> tuple[Path, ...]:
    """Folders to put on ``sys.path`` for the project's code, most specific first."""
    roots: list[Path] = []
    if working_directory:
        roots.append((project.root / working_directory).resolve())
    if project.package_base is not None:
        roots.append(project.package_base)
    roots += [project.root / "src", project.root]
    unique: list[Path] = []
    for root in roots:
        if root.is_dir() and root not in unique:
            unique.append(root)
    return tuple(unique)


def _source_for(project: Project, module: str | None) -> _Source:
    if module:
        return _source_from_spec(project, module, origin="module=")
    tool = project.pyproject.get("tool", {})
    dagster_tool = tool.get("dagster", {})
    if dagster_tool.get("module_name"):
        name = str(dagster_tool["module_name"])
        return _Source(
            label=name,
            origin="[tool.dagster] module_name",
            module=name,
            attribute=dagster_tool.get("attribute"),
            paths=_import_roots(project, dagster_tool.get("working_directory")),
        )
    dg_project = tool.get("dg", {}).get("project", {})
    if dg_project.get("root_module"):
        name = str(
            dg_project.get("code_location_target_module")
            or f"{dg_project['root_module']}.definitions"
        )
        return _Source(
            label=name, origin="[tool.dg.project]", module=name, paths=_import_roots(project)
        )
    entries = workspace_entries(project.root)
    if entries:
        return _workspace_source(project, entries[0])
    if project.package and project.package_dir is not None:
        has_definitions = (project.package_dir / "definitions.py").is_file()
        name = f"{project.package}.definitions" if has_definitions else project.package
        return _Source(label=name, origin="code package", module=name, paths=_import_roots(project))
    if (project.root / "definitions.py").is_file():
        return _file_source(project, project.root / "definitions.py", None, "definitions.py", ())
    raise ValidationError(
        f"no Dagster code found for the project at {project.root}",
        remediation=(
            "Pass module= (a dotted module such as my_pkg.definitions, or a file such as "
            "definitions.py), or set [tool.dagster] module_name in pyproject.toml."
        ),
    )


def _workspace_source(project: Project, entry: WorkspaceEntry) -> _Source:
    """One code location of ``workspace.yaml`` as a source."""
    workdir = entry.working_directory
    if entry.module is not None:
        return _Source(
            label=entry.module,
            origin=entry.file_name,
            module=entry.module,
            attribute=entry.attribute,
            paths=_import_roots(project, workdir),
            location=entry.served_name,
        )
    assert entry.relative_path is not None  # noqa: S101  type narrowing, an invariant
    base = (project.root / workdir) if workdir else project.root
    file = (base / entry.relative_path).resolve()
    if not file.is_file():
        file = (project.root / entry.relative_path).resolve()
    source = _file_source(
        project, file, entry.attribute, entry.file_name, _import_roots(project, workdir)
    )
    return _Source(
        label=source.label,
        origin=source.origin,
        module=source.module,
        file=source.file,
        attribute=source.attribute,
        paths=source.paths,
        location=entry.served_name,
    )


def sources_for(project: Project, module: str | None, location: str | None = None) -> list[_Source]:
    """Where to look for a target, in order.

    ``module`` names one source. Otherwise the project's own (``[tool.dagster]``,
    ``[tool.dg.project]``, the code package) comes first, then every ``workspace.yaml`` location
    it is not already, as ``dagster dev -w`` loads them. ``location`` keeps the one of that name.
    """
    if module:
        return [_source_from_spec(project, module, origin="module=")]
    entries = workspace_entries(project.root)
    from_workspace = [_workspace_source(project, entry) for entry in entries]
    if location is not None:
        chosen = [s for s in from_workspace if s.location == location]
        if not chosen:
            from daglab._errors import did_you_mean

            names = [s.location for s in from_workspace if s.location]
            raise ValidationError(
                f"no code location named {location!r} in workspace.yaml"
                + did_you_mean(location, names),
                remediation=(
                    f"Pass one of: {', '.join(names)}." if names else "Leave location= out."
                ),
            )
        return chosen
    own = _source_for(project, None) if not entries or _has_own_marker(project) else None
    sources = [own] if own is not None else []
    for source in from_workspace:
        if own is not None and (source.module, source.file) == (own.module, own.file):
            sources[0] = replace(own, location=source.location)  # the same code, named
        else:
            sources.append(source)
    return sources


def _has_own_marker(project: Project) -> bool:
    tool = project.pyproject.get("tool", {})
    return bool(
        tool.get("dagster", {}).get("module_name")
        or tool.get("dg", {}).get("project", {}).get("root_module")
    )


def _source_from_spec(project: Project, spec: str, *, origin: str) -> _Source:
    name, sep, attribute = spec.rpartition(":")
    # "C:\\code\\defs.py" is a Windows path, not a module with an attribute
    if not (sep and attribute.isidentifier() and name and not (len(name) == 1 and os.name == "nt")):
        name, attribute = spec, ""
    is_file = name.endswith(".py") or "/" in name or os.sep in name
    if not is_file:
        return _Source(
            label=name,
            origin=origin,
            module=name,
            attribute=attribute or None,
            paths=_import_roots(project),
        )
    given = Path(name).expanduser()
    candidates = [given] if given.is_absolute() else [project.root / given]
    if not given.is_absolute():
        if project.package_dir is not None:
            candidates.append(project.package_dir / given)
        candidates.append(Path.cwd() / given)
    for candidate in candidates:
        if candidate.is_file():
            return _file_source(project, candidate.resolve(), attribute or None, origin, ())
    raise ValidationError(
        f"module file {name} not found (looked in {', '.join(str(c.parent) for c in candidates)})",
        remediation="Pass module= a file relative to the project root, or a dotted module name.",
    )


def _file_source(
    project: Project,
    file: Path,
    attribute: str | None,
    origin: str,
    extra_roots: tuple[Path, ...],
) -> _Source:
    """A file is imported under its dotted name when it sits in a package on an import root."""
    roots = tuple(dict.fromkeys((*extra_roots, *_import_roots(project))))
    label = project.relative(file)
    for root in roots:
        try:
            parts = file.with_suffix("").relative_to(root).parts
        except ValueError:
            continue
        folders = [root.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if len(parts) > 1 and all((folder / "__init__.py").is_file() for folder in folders):
            dotted = ".".join(parts)
            return _Source(
                label=label,
                origin=origin,
                module=dotted,
                attribute=attribute,
                paths=(root, *(r for r in roots if r != root)),
            )
    return _Source(
        label=label,
        origin=origin,
        file=file,
        attribute=attribute,
        paths=(file.parent, *(r for r in roots if r != file.parent)),
    )


@contextmanager
def _on_sys_path(paths: Sequence[Path]) -> Iterator[None]:
    """Put ``paths`` first on ``sys.path`` for the call; take back only what was added."""
    added = [str(p) for p in paths if str(p) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            if entry in sys.path:
                sys.path.remove(entry)


def _location(module: ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        paths = list(getattr(module, "__path__", None) or [])  # namespace packages
        file = paths[0] if paths and isinstance(paths[0], str) else None
    return str(Path(file).absolute()) if file else None


def _python_dirs() -> list[str]:
    import sysconfig

    paths = sysconfig.get_paths()
    return sorted({str(Path(paths[key]).absolute()) for key in ("stdlib", "platstdlib")})


def _is_library(location: str, python_dirs: Sequence[str]) -> bool:
    """Python's own modules and installed libraries: never reloaded, never shadowed."""
    return _inside(location, python_dirs) or any(
        f"{os.sep}{name}{os.sep}" in location for name in _LIBRARY_DIRS
    )


def _inside(location: str, folders: Sequence[str]) -> bool:
    return any(location == f or location.startswith(f + os.sep) for f in folders)


def _is_foreign(module: ModuleType | None) -> bool:
    """True for a module of Python itself or of an installed library."""
    if module is None:
        return False
    location = _location(module)
    return location is None or _is_library(location, _python_dirs())  # None: built in


def _forget(names: Sequence[str]) -> None:
    for name in names:
        sys.modules.pop(name, None)


def _forget_user_modules(project: Project, source: _Source) -> None:
    """Drop the project's modules (and same-named ones from other projects) from ``sys.modules``.

    The next import then reads the files again: that is how edits reach a notebook kernel.
    """
    root = str(project.root)
    allowed = [str(p) for p in source.paths] + [root]
    python_dirs = _python_dirs()
    stale: list[str] = []
    wanted = source.module or ""
    prefixes = {".".join(wanted.split(".")[: i + 1]) for i in range(wanted.count(".") + 1)}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in _PROTECTED_PACKAGES or module is None:
            continue
        location = _location(module)
        if location is None or _is_library(location, python_dirs):
            continue
        if _inside(location, [root]):
            stale.append(name)
        elif wanted and name.split(".")[0] in prefixes and not _inside(location, allowed):
            stale.append(name)  # the same package name, imported from another folder
    _forget(stale)
    importlib.invalidate_caches()


def _import(source: _Source, project: Project, *, fresh: bool = True) -> ModuleType:
    """Import ``source``; ``fresh`` first forgets the project's modules so edits are read."""
    if fresh:
        _forget_user_modules(project, source)
    what = source.module or source.label
    try:
        if source.module is not None:
            return importlib.import_module(source.module)
        assert source.file is not None  # noqa: S101  type narrowing, an invariant
        name = source.file.stem
        if _is_foreign(sys.modules.get(name)):
            name = f"daglab_inprocess_{name}"  # a file named like a library module: keep both
        spec = importlib.util.spec_from_file_location(name, source.file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {source.file} as a Python module")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        try:
            spec.loader.exec_module(loaded)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return loaded
    except ImportError as exc:
        raise ValidationError(
            f"cannot import {what} (from {source.origin}): {exc}",
            remediation=_IMPORT_REMEDIATION,
        ) from exc
    except Exception as exc:
        raise ValidationError(
            f"importing {what} (from {source.origin}) raised {type(exc).__name__}: {exc}",
            remediation="Fix the error in the project's code and run again.",
        ) from exc


def definitions_from(module: ModuleType, source: _Source, *, scratch_io: Path | None = None) -> Any:
    """The ``RepositoryDefinition`` behind the module's ``Definitions``.

    Like Dagster's own loader: a ``@dg.definitions`` function wins over a ``Definitions``
    object, which wins over a ``RepositoryDefinition``; with none of them, the module's asset,
    job, schedule and sensor objects are wrapped (``dagster.load_definitions_from_module``).
    With ``scratch_io``, every IO manager the ``Definitions`` bind is replaced by a filesystem
    IO manager writing under that folder (a bare ``RepositoryDefinition`` keeps its own).
    """
    import dagster as dg
    from dagster.components.definitions import LazyDefinitions

    label = source.label
    if source.attribute:
        if not hasattr(module, source.attribute):
            raise ValidationError(
                f"{label} has no attribute {source.attribute!r}",
                remediation=f"Name an attribute of {label} that holds the Definitions.",
            )
        candidates = [(source.attribute, getattr(module, source.attribute))]
    else:
        members = list(vars(module).items())
        candidates = (
            [(n, v) for n, v in members if isinstance(v, LazyDefinitions)]
            or [(n, v) for n, v in members if isinstance(v, dg.Definitions)]
            or [(n, v) for n, v in members if isinstance(v, dg.RepositoryDefinition)]
        )
    if len(candidates) > 1:
        names = ", ".join(name for name, _ in candidates)
        raise ValidationError(
            f"{label} defines more than one set of definitions: {names}",
            remediation=f"Choose one with module='{source.module or label}:NAME'.",
        )
    name = ""
    try:
        if not candidates:
            # A preview API of Dagster's, chosen on purpose: its warning is not the user's.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dg.PreviewWarning)
                built = dg.load_definitions_from_module(module)
            repository = _with_scratch_io(built, scratch_io).get_repository_def()
            if not repository.asset_graph.get_all_asset_keys() and not [
                job for job in repository.job_names if not job.startswith("__")
            ]:
                raise ValidationError(
                    f"no Definitions, assets or jobs found in {label}",
                    remediation=(
                        "Point module= at the module that builds the Definitions "
                        "(or that defines the assets and jobs)."
                    ),
                )
            return repository
        name, value = candidates[0]
        if isinstance(value, LazyDefinitions):
            value = value()
        if isinstance(value, dg.Definitions):
            return _with_scratch_io(value, scratch_io).get_repository_def()
        if isinstance(value, dg.RepositoryDefinition):
            return value
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(
            f"the definitions in {label} do not load: {type(exc).__name__}: {exc}",
            remediation="Fix them; `dagster definitions validate` shows the same error.",
        ) from exc
    raise ValidationError(
        f"{label}:{name} is a {type(value).__name__}, not Definitions",
        remediation=f"Name the attribute of {label} that holds the Definitions.",
    )


def _is_io_manager(resource: object) -> bool:
    import dagster as dg

    return isinstance(
        resource, (dg.IOManager, dg.IOManagerDefinition, dg.ConfigurableIOManagerFactory)
    )


def _with_scratch_io(defs: Any, folder: Path | None) -> Any:
    """``defs`` with every IO manager resource writing under ``folder`` instead.

    The default ``io_manager`` already writes under the ephemeral instance's folder; project IO
    managers (a warehouse, a bucket) would write to real storage, which a throw-away run must
    not. Other resources stay as the project configures them.
    """
    import dagster as dg

    if folder is None:
        return defs
    resources = dict(defs.resources or {})
    replaced = {
        key: dg.FilesystemIOManager(base_dir=str(folder / key))
        for key, resource in resources.items()
        if _is_io_manager(resource)
    }
    if not replaced:
        return defs
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        resources={**resources, **replaced},
        executor=defs.executor,
        loggers=defs.loggers,
        metadata=defs.metadata,
    )
