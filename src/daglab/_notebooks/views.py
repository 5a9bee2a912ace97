"""What generated notebooks show: the logic behind their cells, so the cells stay one-liners.

Every function here returns something marimo can display and never lets a daglab error escape
into a cell: problems become a callout with the remedy, and are added to the notebook's error
log. Marimo is imported only when a view is built.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from daglab._errors import DaglabError
from daglab._notebooks.measures import bar_chart as bar_chart
from daglab._notebooks.measures import compare_runs as compare_runs
from daglab._notebooks.measures import performance as performance
from daglab._notebooks.partitions import partition_picker as partition_picker

if TYPE_CHECKING:
    from daglab._client import Discovery, Run
    from daglab._performance import PerformanceTracker
    from daglab._runs import Outcome
    from daglab._session import ConfigCheck, Connection
    from daglab._state import NotebookState

T = TypeVar("T")
ASSET_JOB_LABEL = "assets (selection below)"


def _mo() -> Any:
    import marimo as mo

    return mo


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """The value of an operation, or the daglab error it raised."""

    value: T | None
    error: DaglabError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def log_error(state: NotebookState | None, where: str, error: BaseException) -> None:
    """Add an entry to ``state['error_log']`` (time, where, message, remedy)."""
    if state is None:
        return
    state.append(
        "error_log",
        {
            "at": time.strftime("%H:%M:%S"),
            "where": where,
            "error": str(error),
            "remedy": getattr(error, "remediation", None) or "",
        },
    )


def attempt(
    fn: Callable[..., T], *args: Any, state: NotebookState | None = None, **kwargs: Any
) -> Attempt[T]:
    """Call ``fn``; a daglab error is returned (and logged), not raised."""
    try:
        return Attempt(fn(*args, **kwargs))
    except DaglabError as exc:
        log_error(state, getattr(fn, "__name__", "operation"), exc)
        return Attempt(None, exc)


def problem(error: BaseException | str, *, title: str = "Problem") -> Any:
    """A red callout with the message and, for daglab errors, the remedy."""
    mo = _mo()
    message = html.escape(str(error))
    remedy = getattr(error, "remediation", None)
    text = f"**{title}**\n\n{message}" + (f"\n\n→ {html.escape(remedy)}" if remedy else "")
    return mo.callout(mo.md(text), kind="danger")


def header(
    title: str,
    target: Mapping[str, Any],
    *,
    version: str,
    author: str,
    created: str,
    daglab_version: str,
) -> Any:
    """The notebook's title and what it is paired with."""
    mo = _mo()
    kind = html.escape(str(target.get("kind", "")))
    name = html.escape(str(target.get("name", "")))
    return mo.md(
        f"# {html.escape(title)}\n\nPaired with the Dagster {kind} **{name}** · notebook"
        f" v{html.escape(version)} by {html.escape(author)}, {html.escape(created)} · daglab"
        f" {html.escape(daglab_version)}"
    )


def connection_status(conn: Connection) -> Any:
    mo = _mo()
    if conn.ok:
        # A URL whose credentials are masked (``user:***@``, ``?token=***``) is shown as code: as
        # Markdown its asterisks would turn bold, and as a link it would not open anything.
        where = f"`{conn.url}`" if "*" in conn.url else f"[{conn.url}]({conn.url})"
        return mo.callout(
            mo.md(f"Connected to Dagster **{html.escape(str(conn.version))}** at {where}"),
            kind="success",
        )
    remedy = conn.remedy or "Start it with `daglab dev` or `dagster dev`."
    return mo.callout(
        mo.md(
            f"**Dagster is not reachable** at `{conn.url}`.\n\n{html.escape(conn.problem or '')}"
            f"\n\n→ {html.escape(remedy)}\n\nThe notebook keeps working; press **Reconnect**"
            " once the webserver is up."
        ),
        kind="warn",
    )


# -- controls -------------------------------------------------------------------------------


def locations(discovery: Discovery | None) -> list[str]:
    return sorted({loc.name for loc in discovery.locations}) if discovery else []


def repositories(discovery: Discovery | None, location: str | None) -> list[str]:
    if discovery is None:
        return []
    return sorted(
        {
            repo
            for loc in discovery.locations
            if location in (None, loc.name)
            for repo in loc.repositories
        }
    )


def jobs(
    discovery: Discovery | None, location: str | None, repository: str | None
) -> dict[str, str]:
    """Dropdown options: label -> job name; the implicit asset job is offered as an entry."""
    from daglab._client._models import ASSET_JOB

    options = {ASSET_JOB_LABEL: ASSET_JOB}
    if discovery is None:
        return options
    for job in sorted(discovery.jobs, key=lambda j: j.name):
        if job.name == ASSET_JOB or job.name.startswith("__"):
            continue
        if location in (None, job.ref.location) and repository in (None, job.ref.repository):
            options[job.name] = job.name
    return options


def pick(options: Sequence[str] | Mapping[str, str], preferred: str | None) -> str | None:
    """``preferred`` when it is one of the options (by label or value), else the first one."""
    labels = list(options)
    if preferred is not None:
        if preferred in labels:
            return preferred
        if isinstance(options, Mapping):
            for label, value in options.items():
                if value == preferred:
                    return label
    return labels[0] if labels else None


def selected_assets(discovery: Discovery | None, selection: str) -> tuple[list[str], str | None]:
    """The asset keys a selection text matches, and a problem with the text if any."""
    from daglab._runs import match_assets
    from daglab._validation import check_input

    cleaned, issue = check_input(selection, "pattern")
    if issue is not None or not cleaned:
        return [], issue
    if discovery is None:
        return [], None
    keys = ["/".join(k) for k in match_assets(discovery, cleaned)]
    return keys, None if keys else f"{selection!r} matches no asset"


def selection_status(keys: Sequence[str], issue: str | None) -> Any:
    mo = _mo()
    if issue:
        return mo.callout(mo.md(html.escape(issue)), kind="warn")
    if not keys:
        return mo.md("_No assets selected._")
    shown = ", ".join(f"`{k}`" for k in keys[:20])
    more = f" and {len(keys) - 20} more" if len(keys) > 20 else ""
    return mo.md(f"{len(keys)} asset(s): {shown}{more}")


def config_status(check: ConfigCheck) -> Any:
    mo = _mo()
    if check.ok:
        return mo.callout(mo.md("**Run config is valid** for this job."), kind="success")
    if check.ok is None:
        reason = html.escape("; ".join(check.problems))
        return mo.callout(mo.md(f"Run config not validated: {reason}"), kind="neutral")
    items = "\n".join(f"- {html.escape(p)}" for p in check.problems)
    return mo.callout(mo.md(f"**Run config is invalid**\n\n{items}"), kind="danger")


def queue_status(conn: Connection) -> Any:
    mo = _mo()
    if not conn.ok:
        return mo.md("_Queue: not connected._")
    from daglab._session import queue_position

    found = attempt(queue_position, conn)
    if found.value is None:
        return problem(found.error or "unknown", title="Queue")
    in_flight, limit = found.value
    note = " — new launches wait for a slot" if in_flight >= limit else ""
    return mo.md(f"daglab runs in flight: **{in_flight}** of {limit}{note}")


# -- launching ------------------------------------------------------------------------------


def run_status(run: Run, elapsed: float | None = None) -> Any:
    mo = _mo()
    kind = {"SUCCESS": "success", "FAILURE": "danger", "CANCELED": "warn"}.get(run.status, "info")
    took = f" after {elapsed:.1f} s" if elapsed is not None else ""
    return mo.callout(
        mo.md(f"Run [`{run.run_id[:8]}`]({run.url}) is **{run.status}**{took}.\n\n{run.url}"),
        kind=kind,
    )


@dataclass
class Launched:
    """What pressing Launch produced: an outcome, or the error that stopped it."""

    outcome: Outcome | None
    error: DaglabError | None = None
    config: str | Mapping[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.outcome is not None and not self.outcome.succeeded)


def launch(
    run_job: Callable[..., Outcome],
    *,
    job: str | None,
    config: str | Mapping[str, Any] | None,
    assets: Sequence[str] | None,
    conn: Connection,
    state: NotebookState | None = None,
    tracker: PerformanceTracker | None = None,
    tags: Mapping[str, str] | None = None,
    timeout: float | None = None,
    partition: str | None = None,
) -> Launched:
    """Validate, submit, show the run URL at once, then its status live until it ends."""
    mo = _mo()
    started = time.monotonic()

    def on_queue(position: int) -> None:
        mo.output.replace(mo.md(f"Waiting for a run slot: position **{position}** in queue."))

    def on_launch(run: Run) -> None:
        mo.output.replace(run_status(run, time.monotonic() - started))

    def on_update(run: Run, elapsed: float) -> None:
        mo.output.replace(run_status(run, elapsed))

    try:
        outcome = run_job(
            job,
            config=config,
            assets=list(assets) if assets else None,
            conn=conn,
            tags=tags,
            partition=partition,
            timeout=timeout,
            on_launch=on_launch,
            on_update=on_update,
            on_queue=on_queue,
            state=state,
            tracker=tracker,
        )
    except DaglabError as exc:
        log_error(state, "launch", exc)
        return Launched(None, exc, config)
    if not outcome.succeeded:
        detail = "; ".join(f.describe() for f in outcome.failures) or outcome.run.status
        log_error(state, "launch", RuntimeError(f"run {outcome.run.run_id}: {detail}"))
    return Launched(outcome, None, config)


def launched_view(launched: Launched | None, prompt: str) -> Any:
    mo = _mo()
    if launched is None:
        return mo.md(prompt)
    if launched.error is not None:
        return problem(launched.error, title="Not launched")
    assert launched.outcome is not None  # noqa: S101  type narrowing, an invariant
    run = launched.outcome.run
    parts = [run_status(run, run.duration)]
    if launched.outcome.failures:
        items = "\n".join(f"- {html.escape(f.describe())}" for f in launched.outcome.failures)
        parts.append(mo.md(f"**Why it failed**\n\n{items}"))
    return mo.vstack(parts)


# -- in-process -------------------------------------------------------------------------------


def inprocess(
    run_inprocess: Callable[..., Any],
    target: str,
    *,
    kind: str = "auto",
    module: str | None = None,
    config: str | Mapping[str, Any] | None = None,
    project: Path | None = None,
    state: NotebookState | None = None,
    tracker: PerformanceTracker | None = None,
    partition_key: str | None = None,
) -> Attempt[Any]:
    """Run ``target`` in this process (not recorded in Dagster) and record its timing."""
    from daglab._session import parse_config

    found = attempt(parse_config, config, state=state)
    if not found.ok:
        return Attempt(None, found.error)
    result = attempt(
        run_inprocess,
        target,
        kind=kind,
        module=module,
        project=project,
        run_config=found.value or None,
        partition_key=partition_key,
        state=state,
    )
    if result.value is not None and tracker is not None:
        tracker.record_inprocess(result.value)
    return result


def inprocess_view(result: Attempt[Any] | None, prompt: str) -> Any:
    mo = _mo()
    warning = mo.callout(
        mo.md(
            "**Not recorded in Dagster UI.** In-process runs use a throwaway instance: no run,"
            " no materialization and no logs appear in Dagster."
        ),
        kind="warn",
    )
    if result is None:
        return mo.vstack([warning, mo.md(prompt)])
    if result.error is not None:
        return mo.vstack([warning, problem(result.error, title="In-process run failed")])
    assert result.value is not None  # noqa: S101  type narrowing, an invariant
    data = result.value.to_dict()
    status = "succeeded" if data.get("success") else "FAILED"
    rows = [
        {"measure": "status", "value": status},
        {"measure": "wall time", "value": f"{data.get('duration_s', 0):.2f} s"},
        {"measure": "memory before", "value": _mib(data.get("rss_before_bytes"))},
        {"measure": "memory after", "value": _mib(data.get("rss_after_bytes"))},
    ]
    if data.get("error"):
        rows.append({"measure": "error", "value": str(data["error"])})
    for name, value in (data.get("outputs") or {}).items():
        rows.append({"measure": f"output {name}", "value": str(value)})
    return mo.vstack([warning, mo.ui.table(rows, selection=None, pagination=False)])


def _mib(value: Any) -> str:
    return f"{value / 2**20:.1f} MiB" if isinstance(value, int | float) else "n/a"


# -- recovery -------------------------------------------------------------------------------


def error_log(state: NotebookState) -> Any:
    mo = _mo()
    entries = list(state.get("error_log") or [])
    if not entries:
        return mo.md("_No errors so far._")
    return mo.ui.table(entries[::-1], selection=None, label="Error log (newest first)")


def export_diagnostics(
    path: Path, *, state: NotebookState, conn: Connection | None, tracker: PerformanceTracker
) -> Path:
    """Write what support needs (versions, connection, state, errors, timings) as JSON.

    Secrets never appear: the connection holds no token, and the text is redacted.
    """
    import platform

    from daglab._fs import atomic_write
    from daglab._logging import redact
    from daglab._version import __version__

    data = {
        "daglab": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "connection": conn.to_dict() if conn is not None else None,
        "state": state.snapshot(),
        "history": [change.to_dict() for change in state.get_history()[-200:]],
        "performance": tracker.summary(),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write(path, redact(json.dumps(data, indent=2, default=str)) + "\n")
    return path


# -- connection and imports ---------------------------------------------------------------------


def note_connection(conn: Connection, state: NotebookState | None) -> None:
    """Log a failed connection in the notebook's error log."""
    if not conn.ok:
        log_error(state, "connect", RuntimeError(conn.problem or "not connected"))


def ensure_importable(notebook_dir: Path | None) -> None:
    """Put the project's code on ``sys.path`` (as ``dagster dev`` would) for the import below."""
    import sys

    from daglab._project import find_project

    project = find_project((notebook_dir or Path.cwd()).resolve())
    for root in reversed(project.import_roots()):
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))


def import_problem(module: str, error: ImportError) -> str:
    return (
        f"Cannot import {module}: {error}. Is the project installed in this environment"
        " (`pip install -e .`), and does the module still define it?"
    )


# -- export ---------------------------------------------------------------------------------------


@dataclass
class ExportOutcome:
    exported: Any = None  # daglab._export.Exported
    attached: Any = None  # daglab._export.Attached
    error: DaglabError | None = None


def export_and_attach(
    notebook: Path,
    attach_metadata: Callable[..., Any],
    *,
    asset: str | None,
    conn: Connection,
    compress: bool = False,
    metadata_key: str = "exploration",
    partition: str | None = None,
    retention_days: int | None = None,
    state: NotebookState | None = None,
) -> ExportOutcome:
    """Export ``notebook`` to HTML beside it, then attach it to ``asset`` (if any) in Dagster,
    on ``partition`` when the asset is partitioned (the notebook's partition picker)."""
    from daglab._export import export_html

    exported = attempt(
        export_html, notebook, compress=compress, retention_days=retention_days, state=state
    )
    if exported.value is None or asset is None:
        return ExportOutcome(exported.value, None, exported.error)
    attached = attempt(
        attach_metadata,
        asset,
        notebook=notebook,
        html=exported.value.path,
        metadata_key=metadata_key,
        partition=partition,
        conn=conn,
        state=state,
    )
    return ExportOutcome(exported.value, attached.value, attached.error)


def export_view(outcome: ExportOutcome | None, prompt: str) -> Any:
    mo = _mo()
    if outcome is None:
        return mo.md(prompt)
    parts = []
    if outcome.exported is not None:
        parts.append(mo.md(f"Exported to `{outcome.exported.path}`."))
    if outcome.error is not None:
        parts.append(problem(outcome.error, title="Export or attach failed"))
    elif outcome.attached is not None:
        parts.append(
            mo.callout(
                mo.md(f"Attached to **{outcome.attached.asset}**: see its page in Dagster."),
                kind="success",
            )
        )
    return mo.vstack(parts)


# -- recovery -------------------------------------------------------------------------------------


def recover(
    *,
    reset: bool,
    retry: bool,
    diagnostics: bool,
    run_job: Callable[..., Outcome],
    launched: Launched | None,
    job: str | None,
    config: str | Mapping[str, Any] | None,
    assets: Sequence[str] | None,
    conn: Connection,
    state: NotebookState,
    tracker: PerformanceTracker,
    diagnostics_path: Path,
    tags: Mapping[str, str] | None = None,
) -> Any:
    """Whatever recovery button was pressed: reset, retry with the edited config, diagnostics."""
    mo = _mo()
    if reset:
        state.reset()
        tracker.reset()
        return mo.callout(mo.md("State and measurements reset."), kind="info")
    if retry:
        if launched is None or not launched.failed:
            return mo.md("_Nothing to retry: the last launch did not fail._")
        again = launch(
            run_job,
            job=job,
            config=config,
            assets=assets,
            conn=conn,
            state=state,
            tracker=tracker,
            tags={**(tags or {}), "daglab/retry-of": _retry_of(launched)},
        )
        return launched_view(again, "")
    if diagnostics:
        written = attempt(
            export_diagnostics, diagnostics_path, state=state, conn=conn, tracker=tracker
        )
        if written.error is not None:
            return problem(written.error, title="Diagnostics")
        return mo.md(f"Diagnostics written to `{written.value}`.")
    return mo.md(
        "_Reset the state, retry a failed run with the edited config, or export"
        " diagnostics for a bug report._"
    )


def _retry_of(launched: Launched) -> str:
    if launched.outcome is not None:
        return launched.outcome.run.run_id
    return "not-launched"
