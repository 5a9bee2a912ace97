"""In-process runs: execute a job or an asset of the project's ``Definitions`` in this process.

A notebook calls :func:`run_inprocess` for a fast loop on the same asset or job the Dagster UI
runs. Decisions, in one place:

- **Never the user's instance.** Every call executes on ``DagsterInstance.ephemeral()`` backed
  by a temporary folder that is removed afterwards; ``DAGSTER_HOME`` is neither read nor written
  and nothing shows up in the Dagster UI (``InProcessResult.recorded_in_dagster`` is ``False``).
- **Assets run with their upstream assets.** The ephemeral instance has no earlier
  materializations, so an asset is materialized together with every materializable asset
  upstream of it (``upstream=False`` selects the asset alone, for IO managers that can load
  upstream values from storage that outlives the run).
- **Edits are picked up.** Every call forgets the project's own modules (those whose files lie
  inside the project root, outside ``site-packages``) and imports them again, so a notebook
  kernel sees the code as it is on disk. Objects taken from an earlier import keep their old
  code. Python revalidates its bytecode cache by modification time and size, so an edit that
  keeps both (within the same second) may go unnoticed.
- **Errors.** A module that cannot be imported, no ``Definitions``, an unknown target, or a run
  Dagster refuses to start (invalid run config, partition key or selection) raise
  :class:`~daglab._errors.ValidationError` (exit code 7): nothing ran. A run that starts and
  fails returns ``success=False`` with the failing step, or raises
  :class:`~daglab._errors.RunFailedError` (exit code 4) when ``raise_on_error=True``.

``dagster`` and ``psutil`` are imported inside the functions that need them: importing this module
stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from daglab._errors import RunFailedError, ValidationError
from daglab._project import Project, find_project, first_workspace_entry

__all__ = ["InProcessResult", "load_repository", "run_inprocess"]

Kind = Literal["asset", "job", "auto"]

#: How many characters of an output's ``repr`` a result keeps.
REPR_LIMIT = 200

_IMPORT_REMEDIATION = (
    "Check module= (or [tool.dagster] module_name in pyproject.toml); "
    "is the project installed in this environment?"
)
_LIBRARY_DIRS = ("site-packages", "dist-packages")
#: Never forgotten between calls, even when their files lie inside the project root.
_PROTECTED_PACKAGES = frozenset({"daglab", "dagster", "__main__", "__mp_main__"})
_STEP_STATUS = {
    "STEP_START": "started",
    "STEP_SUCCESS": "success",
    "STEP_FAILURE": "failure",
    "STEP_SKIPPED": "skipped",
    "STEP_UP_FOR_RETRY": "retrying",
    "STEP_RESTARTED": "restarted",
}

# Runs change sys.path and sys.modules: one at a time per process.
_RUN_LOCK = threading.RLock()


@dataclass(frozen=True)
class InProcessResult:
    """What an in-process run did; ``to_dict()`` is its JSON form (without the raw values).

    ``rss_*`` are bytes of this process's resident memory (``None`` without psutil);
    ``rss_peak_delta`` is the highest RSS sampled during the run minus ``rss_before_bytes``
    (sampled every 10 ms: best effort). ``outputs`` holds a ``repr`` of each loaded value cut to
    200 characters; ``values`` the values themselves (an asset run loads the target only).
    """

    target: str
    kind: Literal["asset", "job"]
    success: bool
    run_id: str
    duration_s: float
    load_duration_s: float
    rss_before_bytes: int | None
    rss_after_bytes: int | None
    rss_peak_delta: int | None
    module: str
    steps: tuple[tuple[str, str], ...] = ()
    materialized: tuple[str, ...] = ()
    selection: tuple[str, ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    failed_step: str | None = None
    partition_key: str | None = None
    values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: In-process runs live on a throw-away instance: the Dagster UI never sees them.
    recorded_in_dagster: bool = field(default=False, init=False)

    @property
    def value(self) -> Any:
        """The target asset's value (``None`` for jobs, or when it was not loaded)."""
        return self.values.get(self.target) if self.kind == "asset" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "success": self.success,
            "run_id": self.run_id,
            "duration_s": self.duration_s,
            "load_duration_s": self.load_duration_s,
            "rss_before_bytes": self.rss_before_bytes,
            "rss_after_bytes": self.rss_after_bytes,
            "rss_peak_delta": self.rss_peak_delta,
            "module": self.module,
            "steps": [{"step_key": key, "status": status} for key, status in self.steps],
            "materialized": list(self.materialized),
            "selection": list(self.selection),
            "outputs": dict(self.outputs),
            "error": self.error,
            "failed_step": self.failed_step,
            "partition_key": self.partition_key,
            "recorded_in_dagster": self.recorded_in_dagster,
        }


def run_inprocess(
    target: str,
    *,
    kind: Kind = "auto",
    project: Path | None = None,
    module: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = False,
    upstream: bool = True,
    load_values: bool = True,
) -> InProcessResult:
    """Run the job or asset ``target`` of the project's ``Definitions`` in this process.

    Args:
        target: A job name, or an asset key (``orders/cleaned_orders``, or ``cleaned_orders``
            when that last part is unique). With ``kind="auto"`` a job of that name wins.
        kind: ``"job"``, ``"asset"`` or ``"auto"``.
        project: Where to look for the project (default: the current directory and up).
        module: The code to load instead of the project's: a dotted module
            (``my_pkg.definitions``) or a file relative to the project (``assets/orders.py``),
            optionally ``:attribute``. A module with asset and job objects but no
            ``Definitions`` is wrapped in one.
        run_config: Run config, as for the Dagster UI's launchpad.
        partition_key: The partition to run, for partitioned assets and jobs.
        tags: Tags of the (ephemeral) run.
        raise_on_error: Raise :class:`RunFailedError` when the run fails, instead of returning
            ``success=False``.
        upstream: For assets, also materialize everything upstream (the default; see the
            module docstring).
        load_values: Load output values through the IO managers to summarise them.

    The module docstring describes the instance, reloading and error decisions. Calls run one
    at a time per process (they change ``sys.path`` and ``sys.modules``); a call from another
    thread waits for the running one.
    """
    from daglab._compat import require

    require("dagster", needed_for="an in-process run")
    if project is not None and project.is_file():
        project = project.parent  # a notebook or module file: its folder and up
    with _RUN_LOCK:
        found = find_project(project)
        source = _source_for(found, module)
        load_started = time.perf_counter()
        with _on_sys_path(source.paths):
            loaded = _import(source, found)
            repository = _repository_from(loaded, source)
            load_duration = time.perf_counter() - load_started
            chosen_kind, name, key = _resolve_target(repository, target, kind, source.label)
            result = _execute(
                repository,
                chosen_kind,
                name,
                key,
                source=source,
                run_config=run_config,
                partition_key=partition_key,
                tags=tags,
                upstream=upstream,
                load_values=load_values,
                load_duration=load_duration,
            )
    with suppress(Exception):  # the local history `daglab stats` reads; never fails a run
        from daglab import _history

        _history.record(
            "inprocess",
            {
                "target": result.target,
                "target_kind": result.kind,  # "kind" is the event's own
                "success": result.success,
                "duration_s": round(result.duration_s, 4),
                "load_duration_s": round(result.load_duration_s, 4),
                "rss_after_bytes": result.rss_after_bytes,
                "rss_peak_delta": result.rss_peak_delta,
                "module": result.module,
                "materialized": list(result.materialized[:100]),
                "partition_key": result.partition_key,
            },
            start=found.root,
        )
    if raise_on_error and not result.success:
        raise RunFailedError(
            f"in-process run of {result.kind} {result.target} failed: {result.error}",
            remediation="Fix the failing step and run again (Dagster logs its traceback).",
            result=result.to_dict(),
        )
    return result


def load_repository(project: Project, module: str | None = None) -> tuple[Any, str]:
    """The ``RepositoryDefinition`` :func:`run_inprocess` would run, and the name its module
    was imported under. ``module`` is as for :func:`run_inprocess`; the project's modules are
    imported afresh, and stay in ``sys.modules`` afterwards."""
    from daglab._compat import require

    require("dagster", needed_for="loading the project's definitions")
    with _RUN_LOCK:
        source = _source_for(project, module)
        with _on_sys_path(source.paths):
            loaded = _import(source, project)
            return _repository_from(loaded, source), loaded.__name__


# ------------------------------------------------------------------------------------------
# Finding and importing the code
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where the definitions come from: a dotted module or a file, plus import roots."""

    label: str
    origin: str
    module: str | None = None
    file: Path | None = None
    attribute: str | None = None
    paths: tuple[Path, ...] = ()


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
    from_workspace = _workspace_source(project)
    if from_workspace is not None:
        return from_workspace
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


def _workspace_source(project: Project) -> _Source | None:
    """The first code location of ``workspace.yaml`` (the one ``dagster dev -w`` loads first)."""
    entry = first_workspace_entry(project.root)
    if entry is None:
        return None
    workdir = entry.working_directory
    if entry.module is not None:
        return _Source(
            label=entry.module,
            origin=entry.file_name,
            module=entry.module,
            attribute=entry.attribute,
            paths=_import_roots(project, workdir),
        )
    assert entry.relative_path is not None
    base = (project.root / workdir) if workdir else project.root
    file = (base / entry.relative_path).resolve()
    if not file.is_file():
        file = (project.root / entry.relative_path).resolve()
    return _file_source(
        project, file, entry.attribute, entry.file_name, _import_roots(project, workdir)
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


def _import(source: _Source, project: Project) -> ModuleType:
    _forget_user_modules(project, source)
    what = source.module or source.label
    try:
        if source.module is not None:
            return importlib.import_module(source.module)
        assert source.file is not None
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


def _repository_from(module: ModuleType, source: _Source) -> Any:
    """The ``RepositoryDefinition`` behind the module's ``Definitions``.

    Like Dagster's own loader: a ``@dg.definitions`` function wins over a ``Definitions``
    object, which wins over a ``RepositoryDefinition``; with none of them, the module's asset,
    job, schedule and sensor objects are wrapped (``dagster.load_definitions_from_module``).
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
    try:
        if not candidates:
            # A preview API of Dagster's, chosen on purpose: its warning is not the user's.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dg.PreviewWarning)
                built = dg.load_definitions_from_module(module)
            repository = built.get_repository_def()
            if not repository.asset_graph.get_all_asset_keys() and not [
                name for name in repository.job_names if not name.startswith("__")
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
            return value.get_repository_def()
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


# ------------------------------------------------------------------------------------------
# Choosing what to run
# ------------------------------------------------------------------------------------------


def _resolve_target(repository: Any, target: str, kind: Kind, label: str) -> tuple[str, str, Any]:
    """``(kind, display name, AssetKey or None)`` for ``target``."""
    import difflib

    from dagster import AssetKey

    if kind not in ("asset", "job", "auto"):
        raise ValidationError(
            f"kind must be 'asset', 'job' or 'auto', not {kind!r}",
            remediation="Pass kind='asset', kind='job', or leave it out.",
        )
    job_names = [name for name in repository.job_names if not name.startswith("__")]
    graph = repository.asset_graph
    all_keys = graph.get_all_asset_keys()
    if kind != "asset" and target in repository.job_names:
        return "job", target, None
    if kind != "job":
        key = AssetKey.from_user_string(target)
        if key not in all_keys and "/" not in target:
            matches = sorted(k.to_user_string() for k in all_keys if k.path[-1] == target)
            if len(matches) > 1:
                raise ValidationError(
                    f"{target!r} matches {len(matches)} assets: {', '.join(matches)}",
                    remediation=f"Pass the full asset key, e.g. run_inprocess({matches[0]!r}).",
                )
            if matches:
                key = AssetKey.from_user_string(matches[0])
        if key in all_keys:
            if key not in graph.materializable_asset_keys:
                raise ValidationError(
                    f"asset {key.to_user_string()} cannot be materialized here "
                    "(an external or source asset)",
                    remediation="Run an asset that this project materializes.",
                )
            return "asset", key.to_user_string(), key

    asset_names = sorted(k.to_user_string() for k in all_keys)
    pool = {
        "job": job_names,
        "asset": asset_names,
        "auto": [*job_names, *asset_names],
    }[kind]
    close = difflib.get_close_matches(target, pool, n=3, cutoff=0.6)
    by_last = {name.rsplit("/", 1)[-1]: name for name in asset_names} if kind != "job" else {}
    close += [
        by_last[name]
        for name in difflib.get_close_matches(target, list(by_last), n=3, cutoff=0.6)
        if by_last[name] not in close
    ]
    what = {"job": "job", "asset": "asset", "auto": "job or asset"}[kind]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
    raise ValidationError(
        f"no {what} named {target!r} in {label}{hint}",
        remediation=(
            f"Pass one of its {len(job_names)} jobs or {len(asset_names)} assets "
            "(asset keys as a/b); `daglab discover` lists them."
        ),
        jobs=job_names,
        assets=asset_names,
    )


def _partition_hint(partitions_def: Any) -> str:
    try:
        keys = partitions_def.get_partition_keys()
    except Exception:  # dynamic partitions need an instance; the hint is optional
        return ""
    if not keys:
        return " (it has no partitions yet)"
    return f" ({len(keys)} keys: {keys[0]} .. {keys[-1]})" if len(keys) > 1 else f" ({keys[0]})"


def _check_partition(what: str, partitions_def: Any, partition_key: str | None) -> None:
    if partitions_def is not None and partition_key is None:
        raise ValidationError(
            f"{what} is partitioned; pass partition_key{_partition_hint(partitions_def)}",
            remediation="Pass partition_key='...' with one of its partition keys.",
        )
    if partitions_def is None and partition_key is not None:
        raise ValidationError(
            f"{what} is not partitioned, but partition_key={partition_key!r} was given",
            remediation="Leave partition_key out.",
        )


# ------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------


class _PeakRss:
    """RSS of this process before, after and at its sampled peak during a block."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.before: int | None = None
        self.after: int | None = None
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: Any = None

    def _rss(self) -> int | None:
        if self._process is None:
            return None
        try:
            return int(self._process.memory_info().rss)
        except Exception:  # the sample is best effort
            return None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            value = self._rss()
            if value is not None and (self.peak is None or value > self.peak):
                self.peak = value

    def __enter__(self) -> _PeakRss:
        try:
            import psutil

            self._process = psutil.Process()
        except Exception:  # no psutil, or a platform it does not support: no memory numbers
            self._process = None
        self.before = self.peak = self._rss()
        if self._process is not None:
            self._thread = threading.Thread(target=self._sample, name="daglab-rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.after = self._rss()
        if self.after is not None and (self.peak is None or self.after > self.peak):
            self.peak = self.after

    @property
    def peak_delta(self) -> int | None:
        if self.peak is None or self.before is None:
            return None
        return max(0, self.peak - self.before)


def _summarise(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the result
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()


def _failure(result: Any) -> tuple[str | None, str | None]:
    """``(error message, failing step)`` from the run's failure events."""
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        error = data.error if data is not None else None
        if error is None:
            return f"step {event.step_key} failed", event.step_key
        # Dagster wraps user code errors; the user's exception is the cause.
        shown = error.cause if error.cause is not None and "Dagster" in error.cls_name else error
        return _first_line(shown.message), event.step_key
    for event in result.all_events:
        if event.event_type_value == "PIPELINE_FAILURE":
            data = event.event_specific_data
            error = getattr(data, "error", None)
            return _first_line(error.message if error is not None else event.message or ""), None
    return "the run failed", None


def _execute(
    repository: Any,
    kind: str,
    name: str,
    key: Any,
    *,
    source: _Source,
    run_config: Mapping[str, Any] | None,
    partition_key: str | None,
    tags: Mapping[str, str] | None,
    upstream: bool,
    load_values: bool,
    load_duration: float,
) -> InProcessResult:
    import tempfile

    from dagster import AssetSelection, DagsterInstance

    selection: list[Any] | None = None
    if kind == "asset":
        graph = repository.asset_graph
        _check_partition(f"asset {name}", graph.get(key).partitions_def, partition_key)
        job_def = repository.get_implicit_global_asset_job_def()
        chosen = {key}
        if upstream:
            chosen |= AssetSelection.assets(key).upstream().resolve(graph)
        chosen &= graph.materializable_asset_keys
        selection = sorted(chosen, key=lambda k: k.to_user_string())
    else:
        job_def = repository.get_job(name)
        _check_partition(f"job {name}", job_def.partitions_def, partition_key)

    with (
        tempfile.TemporaryDirectory(prefix="daglab-inprocess-", ignore_cleanup_errors=True) as tmp,
        DagsterInstance.ephemeral(tempdir=tmp) as instance,
    ):
        with _PeakRss() as memory:
            started = time.perf_counter()
            try:
                result = job_def.execute_in_process(
                    run_config=dict(run_config) if run_config is not None else None,
                    instance=instance,
                    partition_key=partition_key,
                    tags=dict(tags) if tags else None,
                    asset_selection=selection,
                    raise_on_error=False,
                )
            except Exception as exc:  # raised before any step ran: config, partition, selection
                raise ValidationError(
                    f"Dagster refused to run {kind} {name}: {exc}",
                    remediation=(
                        "Fix run_config / partition_key (the message says what is missing)."
                    ),
                    exception=type(exc).__name__,
                ) from exc
            duration = time.perf_counter() - started

        steps: dict[str, str] = {}
        materialized: dict[str, Any] = {}  # user string -> AssetKey, in materialization order
        asset_steps: set[str] = set()
        op_outputs: list[tuple[str, str]] = []
        for event in result.all_events:
            step = event.step_key
            status = _STEP_STATUS.get(event.event_type_value)
            if step and status:
                steps[step] = status
            if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key is not None:
                materialized.setdefault(event.asset_key.to_user_string(), event.asset_key)
                if step:
                    asset_steps.add(step)
            if event.event_type_value == "STEP_OUTPUT" and step:
                handle = event.step_output_data.step_output_handle
                op_outputs.append((step.split("[")[0], handle.output_name))

        values: dict[str, Any] = {}
        outputs: dict[str, str] = {}
        if load_values:
            loaders: list[tuple[str, Callable[[], Any]]] = [
                (asset, partial(result.asset_value, asset_key))
                for asset, asset_key in materialized.items()
                if kind == "job" or asset == name
            ]
            if kind == "job":
                loaders += [
                    (
                        node if output == "result" else f"{node}.{output}",
                        partial(result.output_for_node, node, output),
                    )
                    for node, output in dict.fromkeys(op_outputs)
                    if node not in asset_steps
                ]
            for label, load in loaders:
                _load_value(values, outputs, label, load)

        error = failed_step = None
        if not result.success:
            message, failed_step = _failure(result)
            error = f"{failed_step}: {message}" if failed_step else message

    return InProcessResult(
        target=name,
        kind="asset" if kind == "asset" else "job",
        success=bool(result.success),
        run_id=str(result.run_id),
        duration_s=duration,
        load_duration_s=load_duration,
        rss_before_bytes=memory.before,
        rss_after_bytes=memory.after,
        rss_peak_delta=memory.peak_delta,
        module=source.label,
        steps=tuple(steps.items()),
        materialized=tuple(materialized),
        selection=tuple(k.to_user_string() for k in selection or ()),
        outputs=outputs,
        error=error,
        failed_step=failed_step,
        partition_key=partition_key,
        values=values,
    )


def _load_value(
    values: dict[str, Any], outputs: dict[str, str], label: str, get: Callable[[], Any]
) -> None:
    """Load one value for the summary; a value that cannot be loaded is noted, not raised."""
    try:
        value = get()
    except Exception as exc:
        outputs[label] = _summarise_error(exc)
        return
    values[label] = value
    outputs[label] = _summarise(value)


def _summarise_error(exc: Exception) -> str:
    return f"<not loaded: {type(exc).__name__}: {_first_line(str(exc))}>"[:REPR_LIMIT]
