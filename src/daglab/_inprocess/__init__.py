"""In-process runs: execute a job or an asset of the project's ``Definitions`` in this process.

A notebook calls :func:`run_inprocess` for a fast loop on the same asset or job the Dagster UI
runs. Decisions, in one place:

- **Never the user's instance.** Every call executes on ``DagsterInstance.ephemeral()`` backed
  by a temporary folder that is removed afterwards; ``DAGSTER_HOME`` is neither read nor written
  and nothing shows up in the Dagster UI (``InProcessResult.recorded_in_dagster`` is ``False``).
- **Every code location.** Without ``module=``, the target is looked for in the project's own
  code first, then in each ``workspace.yaml`` location in the order ``dagster dev`` loads them
  (``location=`` picks one). A location that fails to import is reported only when no other
  location has the target.
- **The environment ``dagster dev`` gives.** The project's ``.env`` is loaded for the call (its
  values win, as in ``dagster dev``), and put back afterwards.
- **Throw-away storage.** Every IO manager the project binds is replaced by a filesystem IO
  manager under the same temporary folder (``io_managers="project"`` keeps the project's own,
  which then read and write real storage). Other resources (databases, APIs) run as the
  project configures them: an asset that writes to a database through a resource writes there.
- **Checks and partitions.** An asset runs with its asset checks; a failed check of ERROR
  severity makes the run unsuccessful. A dynamic partition key is added to the ephemeral
  instance (and ``dynamic_partitions`` adds more, for code that lists them); an unknown static
  or time partition key is refused before anything runs. As in Dagster, an unpartitioned asset
  runs beside partitioned upstream assets: ``partition_key`` picks their partition, and the
  unpartitioned asset loads the partitions its partition mapping names (every one by default),
  which a throw-away run has stored only one of - the error then says so.
- **Quiet.** Dagster's event stream is logged at ``log_level`` (``WARNING`` by default), not
  DEBUG; the result carries the timing and memory summary. Dagster's instance messages and
  beta/preview warnings go to daglab's log file, not the terminal.
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

import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from daglab._checks import CheckResult
from daglab._errors import RunFailedError, ValidationError
from daglab._inprocess._execute import execute
from daglab._inprocess._quiet import dagster_quiet
from daglab._inprocess._result import InProcessResult, Kind
from daglab._inprocess._source import (
    _import,
    _on_sys_path,
    _source_for,
    definitions_from,
    sources_for,
)
from daglab._inprocess._target import TargetNotFound, resolve_target
from daglab._project import Project, find_project

__all__ = [
    "CheckResult",
    "InProcessResult",
    "load_repositories",
    "load_repository",
    "run_inprocess",
]

# Runs change sys.path, sys.modules and os.environ: one at a time per process.
_RUN_LOCK = threading.RLock()


def run_inprocess(
    target: str,
    *,
    kind: Kind = "auto",
    project: Path | None = None,
    module: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = False,
    upstream: bool = True,
    load_values: bool = True,
    io_managers: Literal["temporary", "project"] = "temporary",
    log_level: str = "WARNING",
    dynamic_partitions: Mapping[str, Sequence[str]] | None = None,
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
        location: The ``workspace.yaml`` code location to load (default: the first that has
            the target).
        run_config: Run config, as for the Dagster UI's launchpad.
        partition_key: The partition to run, for partitioned assets and jobs (a dynamic key
            is added to the ephemeral instance; multi-dimensional keys as ``2024-01-01|eu``).
            For an unpartitioned asset with partitioned upstream assets, their partition.
        tags: Tags of the (ephemeral) run.
        raise_on_error: Raise :class:`RunFailedError` when the run fails, instead of returning
            ``success=False``.
        upstream: For assets, also materialize everything upstream (the default; see the
            module docstring).
        load_values: Load output values through the IO managers to summarise them.
        io_managers: ``"temporary"`` (default) writes every output under a temporary folder;
            ``"project"`` uses the project's own IO managers, and so its real storage.
        log_level: The level of Dagster's event log on the console (``DEBUG`` shows all).
        dynamic_partitions: ``{dynamic partitions definition name: [keys]}`` to add to the
            ephemeral instance before the run (each name must be one the definitions use).

    The module docstring describes the instance, reloading and error decisions. Calls run one
    at a time per process (they change ``sys.path``, ``sys.modules`` and ``os.environ``); a
    call from another thread waits for the running one.
    """
    from daglab._compat import require

    require("dagster", needed_for="an in-process run")
    if io_managers not in ("temporary", "project"):
        raise ValidationError(
            f"io_managers must be 'temporary' or 'project', not {io_managers!r}",
            remediation="Pass io_managers='temporary' (the default) or 'project'.",
        )
    if project is not None and project.is_file():
        project = project.parent  # a notebook or module file: its folder and up
    with (
        _RUN_LOCK,
        tempfile.TemporaryDirectory(prefix="daglab-inprocess-", ignore_cleanup_errors=True) as tmp,
    ):
        found = find_project(project)
        scratch = Path(tmp) / "io" if io_managers == "temporary" else None
        load_started = time.perf_counter()
        with _project_env(found.root), dagster_quiet():
            repository, chosen_kind, name, key, source = _find_target(
                found, target, kind, module, location, scratch
            )
            load_duration = time.perf_counter() - load_started
            with _on_sys_path(source.paths):
                result = execute(
                    repository,
                    chosen_kind,
                    name,
                    key,
                    module_label=source.label,
                    location=source.location,
                    instance_dir=Path(tmp) / "instance",
                    run_config=run_config,
                    partition_key=partition_key,
                    tags=tags,
                    upstream=upstream,
                    load_values=load_values,
                    load_duration=load_duration,
                    log_level=log_level,
                    dynamic_partitions=dynamic_partitions,
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


def _find_target(
    project: Project,
    target: str,
    kind: Kind,
    module: str | None,
    location: str | None,
    scratch: Path | None,
) -> tuple[Any, str, str, Any, Any]:
    """``(repository, kind, name, key, source)`` of the first source that has ``target``."""
    sources = sources_for(project, module, location)
    not_found: list[TargetNotFound] = []
    broken: list[ValidationError] = []
    for source in sources:
        with _on_sys_path(source.paths):
            try:
                loaded = _import(source, project)
                repository = definitions_from(loaded, source, scratch_io=scratch)
                chosen_kind, name, key = resolve_target(repository, target, kind, source.label)
            except TargetNotFound as exc:
                not_found.append(exc)
                continue
            except ValidationError as exc:
                if len(sources) == 1:
                    raise
                broken.append(exc)  # a location that fails to load: look in the others
                continue
        return repository, chosen_kind, name, key, source
    if broken and not not_found:
        raise broken[0]
    first = not_found[0]
    if len(sources) > 1:
        where = ", ".join(s.location or s.label for s in sources)
        notes = "; ".join(f"{b.message}" for b in broken)
        raise TargetNotFound(
            f"{first.message.split(' in ', 1)[0]} in any code location ({where})"
            + (f"; {len(broken)} did not load: {notes}" if broken else ""),
            remediation=first.remediation,
            **first.details,
        ) from first
    raise first


@contextmanager
def _project_env(root: Path) -> Iterator[None]:
    """The project's ``.env`` in ``os.environ`` for the block, as ``dagster dev`` loads it."""
    values = _read_env_file(root / ".env")
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        from dotenv import dotenv_values  # Dagster's own .env reader, installed with it
    except ImportError:  # pragma: no cover - Dagster depends on python-dotenv
        return {}
    try:
        return {k: v for k, v in dotenv_values(path).items() if v is not None}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"cannot read {path}: {exc}", remediation="Fix or remove the .env file."
        ) from exc


def load_repository(project: Project, module: str | None = None) -> tuple[Any, str]:
    """The ``RepositoryDefinition`` :func:`run_inprocess` would run, and the name its module
    was imported under. ``module`` is as for :func:`run_inprocess`; the project's modules are
    imported afresh, and stay in ``sys.modules`` afterwards."""
    from daglab._compat import require

    require("dagster", needed_for="loading the project's definitions")
    with _RUN_LOCK, dagster_quiet():
        source = _source_for(project, module)
        with _on_sys_path(source.paths):
            loaded = _import(source, project)
            return definitions_from(loaded, source), loaded.__name__


def load_repositories(project: Project) -> list[tuple[Any, str, str | None]]:
    """``(repository, module name, location)`` of every source of the project that loads.

    A location that fails to load is left out; when none loads, the first one's error is
    raised. The project's modules stay in ``sys.modules`` afterwards.
    """
    from daglab._compat import require

    require("dagster", needed_for="loading the project's definitions")
    loaded: list[tuple[Any, str, str | None]] = []
    errors: list[ValidationError] = []
    with _RUN_LOCK, _project_env(project.root), dagster_quiet():
        for index, source in enumerate(sources_for(project, None)):
            with _on_sys_path(source.paths):
                try:
                    # forget the project's modules once: the locations' modules stay side by side
                    module = _import(source, project, fresh=index == 0)
                    repository = definitions_from(module, source)
                except ValidationError as exc:
                    errors.append(exc)
                    continue
            loaded.append((repository, module.__name__, source.location))
    if not loaded and errors:
        raise errors[0]
    return loaded
