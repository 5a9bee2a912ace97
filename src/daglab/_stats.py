"""Usage statistics: the runs daglab launched in Dagster, and the local history of the rest.

Two sources, read separately so one can be missing:

- **Dagster** records every run daglab launches, tagged ``daglab/launched-by`` (``cli``,
  ``notebook``, ``sweep``) plus ``daglab/notebook``, ``daglab/sweep`` and friends. The values of
  that tag are asked first (one round trip), then the runs carrying each value are read newest
  first, a page at a time, stopping at ``since`` (Dagster's ``createdAfter`` filter) or after
  :data:`MAX_RUNS` runs. Each page brings the assets every run materialized.
- **The local history** (``.daglab/history.jsonl``, see :mod:`daglab._history`) holds what
  Dagster never sees: in-process runs, exports, attaches and sweeps.

With the webserver unreachable, the Dagster part says so (with the remedy) and the history is
still reported. Decisions: the success rate counts finished runs only (runs still queued or
running are shown apart); durations are Dagster's start-to-end times of finished runs; the
in-process vs UI comparison uses successful runs on both sides, and its ratio is the mean UI
duration divided by the mean in-process duration.
"""

from __future__ import annotations

import functools
import html
import math
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._client._models import (
    ASSET_JOB,
    LAUNCHED_BY_TAG,
    NOTEBOOK_TAG,
    SWEEP_TAG,
    TERMINAL_STATUSES,
    tags_from_graphql,
)
from daglab._errors import ConflictError, DaglabError, UsageError
from daglab._history import Event

if TYPE_CHECKING:
    import jinja2

    from daglab._client import DagsterClient
    from daglab._config import LoadedConfig

__all__ = ["Stats", "collect", "collect_stats", "parse_since"]

#: The launchers daglab itself uses; asked for when Dagster cannot list the tag's values.
KNOWN_LAUNCHERS = ("cli", "notebook", "sweep")
#: At most this many runs are read from Dagster (newest first).
MAX_RUNS = 10_000
PAGE_SIZE = 200
#: How many of the latest exports, attaches and sweeps the report lists.
LAST = 10
GENERATOR = "daglab stats"
NO_HISTORY = (
    "in-process runs, exports and sweeps are recorded in .daglab/history.jsonl of a project set"
    " up with `daglab init`."
)

SINCE_EXAMPLES = "--since 7d, --since 24h, --since 2026-11-01, --since 2026-11-01T09:30"
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# -- --since ------------------------------------------------------------------------------------


def parse_since(text: str, *, now: float | None = None) -> float:
    """A POSIX timestamp from ``7d``/``24h``/``30m``/``2w`` or an ISO date or date-time.

    A date or date-time without a UTC offset is local time; ``Z`` means UTC.
    """
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        return (time.time() if now is None else now) - amount * _UNIT_SECONDS[unit]
    iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        moment = None
    if moment is None or not value:
        raise UsageError(
            f"--since {text!r} is neither a date, a date-time nor a relative time",
            remediation=f"Examples: {SINCE_EXAMPLES} (m, h, d and w count back from now).",
        )
    return moment.timestamp()  # naive: local time


def iso(timestamp: float | None) -> str | None:
    """A timestamp as local ISO 8601 with its offset, to the second."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def since_label(timestamp: float) -> str:
    """``2026-11-01`` at local midnight, else ``2026-11-01 09:30``."""
    moment = datetime.fromtimestamp(timestamp)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


# -- what is read -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsRun:
    """One of daglab's runs as Dagster recorded it, with the assets it selected and made."""

    run_id: str
    status: str
    job_name: str
    created: float | None
    started: float | None
    ended: float | None
    tags: dict[str, str] = field(default_factory=dict)
    asset_selection: tuple[str, ...] = ()
    materialized: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, node: Mapping[str, Any]) -> StatsRun:
        return cls(
            run_id=str(node["runId"]),
            status=str(node["status"]),
            job_name=str(node.get("jobName") or ""),
            created=node.get("creationTime"),
            started=node.get("startTime"),
            ended=node.get("endTime"),
            tags=tags_from_graphql(node.get("tags")),
            asset_selection=tuple(
                "/".join(key["path"]) for key in node.get("assetSelection") or []
            ),
            materialized=tuple(
                "/".join(event["assetKey"]["path"])
                for event in node.get("assetMaterializations") or []
                if event.get("assetKey")
            ),
        )

    @property
    def launcher(self) -> str:
        return self.tags.get(LAUNCHED_BY_TAG, "?")

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.started)

    @property
    def wall(self) -> float | None:
        """From submission to the end: queueing and launching included."""
        if self.created is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.created)

    @property
    def target(self) -> tuple[str, str]:
        """``(kind, label)``: the job, or the asset when one asset was selected."""
        if self.job_name != ASSET_JOB:
            return "job", self.job_name
        if len(self.asset_selection) == 1:
            return "asset", self.asset_selection[0]
        return "selection", ",".join(sorted(self.asset_selection)) or ASSET_JOB


@dataclass
class DagsterPart:
    """What was read from the webserver, or why nothing could be."""

    endpoint: str | None
    available: bool
    runs: list[StatsRun] = field(default_factory=list)
    truncated: bool = False
    error: str | None = None
    remediation: str | None = None


@dataclass
class HistoryPart:
    path: Path
    available: bool
    events: list[Event] = field(default_factory=list)


def _page(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    from daglab._client._client import ServerError

    result = data.get("runsOrError") or {}
    if result.get("__typename") != "Runs":
        raise ServerError(
            f"Dagster could not list runs: {result.get('message') or result.get('__typename')}",
            remediation="See the webserver's log; the error above is Dagster's own.",
        )
    return list(result.get("results") or [])


def launcher_values(client: DagsterClient) -> list[str]:
    """Every value of ``daglab/launched-by`` Dagster has seen (daglab's own if it cannot say)."""
    data = client.execute("run_tag_values", {"tagKeys": [LAUNCHED_BY_TAG]})
    result = data.get("runTagsOrError") or {}
    if result.get("__typename") != "RunTags":
        return list(KNOWN_LAUNCHERS)
    values = {
        value
        for tag in result.get("tags") or []
        if tag.get("key") == LAUNCHED_BY_TAG
        for value in tag.get("values") or []
    }
    return sorted(values)


def fetch_runs(
    client: DagsterClient,
    *,
    since: float | None = None,
    max_runs: int = MAX_RUNS,
    page_size: int = PAGE_SIZE,
) -> tuple[list[StatsRun], bool]:
    """daglab's runs, newest first, created after ``since``; True when ``max_runs`` cut it."""
    runs: dict[str, StatsRun] = {}
    truncated = False
    for launcher in launcher_values(client):
        run_filter: dict[str, Any] = {"tags": [{"key": LAUNCHED_BY_TAG, "value": launcher}]}
        if since is not None:
            run_filter["createdAfter"] = since
        cursor: str | None = None
        while True:
            remaining = max_runs - len(runs)
            if remaining <= 0:
                truncated = True
                break
            limit = min(page_size, remaining)
            page = _page(
                client.execute(
                    "stats_runs", {"filter": run_filter, "cursor": cursor, "limit": limit}
                )
            )
            for node in page:
                runs[str(node["runId"])] = StatsRun.from_graphql(node)
            if len(page) < limit:
                break
            cursor = str(page[-1]["runId"])
    newest_first = sorted(runs.values(), key=lambda r: r.created or 0.0, reverse=True)
    return newest_first, truncated


def read_dagster(
    loaded: LoadedConfig,
    *,
    since: float | None,
    token: str | None = None,
    client: DagsterClient | None = None,
    max_runs: int = MAX_RUNS,
) -> DagsterPart:
    """Dagster's side; a daglab error (webserver down, credentials) makes it unavailable."""
    endpoint = str(loaded.config.dagster.base_url)  # masked: no password in a report
    own = client is None
    try:
        if client is None:
            from daglab._client import DagsterClient

            client = DagsterClient.from_config(loaded, token=token)
        runs, truncated = fetch_runs(client, since=since, max_runs=max_runs)
    except DaglabError as exc:
        return DagsterPart(endpoint, False, error=exc.message, remediation=exc.remediation)
    finally:
        if own and client is not None:
            client.close()
    return DagsterPart(endpoint, True, runs, truncated)


def read_history(root: Path, *, since: float | None) -> HistoryPart:
    from daglab import _history

    path = _history.history_path(root)
    available = path.parent.is_dir()
    events = _history.read(root, since=since) if available else []
    return HistoryPart(path, available, events)


def collect(
    loaded: LoadedConfig,
    *,
    since: float | None = None,
    token: str | None = None,
    client: DagsterClient | None = None,
    max_runs: int = MAX_RUNS,
) -> Stats:
    """Everything ``daglab stats`` reports for the project and endpoint of ``loaded``."""
    dagster = read_dagster(loaded, since=since, token=token, client=client, max_runs=max_runs)
    history = read_history(loaded.project.root, since=since)
    return Stats(since, time.time(), loaded.project.root, dagster, history, max_runs)


def collect_stats(
    since: str | float | None = None,
    *,
    project: Path | str | None = None,
    url: str | None = None,
    port: int | None = None,
    token: str | None = None,
) -> Stats:
    """:func:`collect` for Python code and notebooks: configuration as ``daglab stats`` loads it.

    ``since`` is a timestamp or what ``--since`` accepts (``7d``, ``2026-11-01``).
    """
    from daglab._config import load_config

    if isinstance(since, str):
        since = parse_since(since) if since.strip() else None
    start = Path(project) if project is not None else None
    loaded = load_config(start=start, overrides={"dagster.url": url, "dagster.port": port})
    return collect(loaded, since=since, token=token)


# -- the report ---------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def describe(values: Iterable[float | None]) -> dict[str, Any]:
    """Count, mean, median, min, max and total of durations in seconds."""
    data = sorted(v for v in values if v is not None and math.isfinite(v))
    if not data:
        empty: dict[str, Any] = dict.fromkeys(("mean_s", "median_s", "min_s", "max_s"))
        return {"count": 0, **empty, "total_s": 0.0}
    return {
        "count": len(data),
        "mean_s": _round(statistics.fmean(data)),
        "median_s": _round(statistics.median(data)),
        "min_s": _round(data[0]),
        "max_s": _round(data[-1]),
        "total_s": _round(sum(data)),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _outcomes(runs: Sequence[StatsRun]) -> dict[str, Any]:
    finished = [r for r in runs if r.finished]
    succeeded = sum(r.status == "SUCCESS" for r in finished)
    return {
        "runs": len(runs),
        "finished": len(finished),
        "succeeded": succeeded,
        "failed": sum(r.status == "FAILURE" for r in finished),
        "canceled": sum(r.status == "CANCELED" for r in finished),
        "in_flight": len(runs) - len(finished),
        "success_rate": _rate(succeeded, len(finished)),
        "mean_duration_s": _round(_mean([d for r in finished if (d := r.duration) is not None])),
    }


def _counted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarise_runs(runs: Sequence[StatsRun]) -> dict[str, Any]:
    by_launcher: dict[str, list[StatsRun]] = {}
    for run in runs:
        by_launcher.setdefault(run.launcher, []).append(run)
    order = sorted(by_launcher, key=lambda k: (-len(by_launcher[k]), k))
    finished = [r for r in runs if r.finished]
    notebooks = [r.tags[NOTEBOOK_TAG] for r in runs if NOTEBOOK_TAG in r.tags]
    return {
        **{k: v for k, v in _outcomes(runs).items() if k != "runs"},
        "total": len(runs),
        "by_launcher": {name: _outcomes(by_launcher[name]) for name in order},
        "by_status": _counted(Counter(r.status for r in runs)),
        "duration": describe(r.duration for r in finished),
        "wall_duration": describe(r.wall for r in finished),
        "by_notebook": _counted(Counter(notebooks)),
        "sweeps": len({r.tags[SWEEP_TAG] for r in runs if SWEEP_TAG in r.tags}),
    }


def _inprocess_runs(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if e.kind == "inprocess" and isinstance(e.data.get("target"), str)]


def _seconds(event: Event, key: str = "duration_s") -> float | None:
    return _number(event.data.get(key))


def most_used_jobs(runs: Sequence[StatsRun], events: Sequence[Event]) -> list[dict[str, Any]]:
    grouped: dict[str, list[StatsRun]] = {}
    for run in runs:
        grouped.setdefault(run.job_name, []).append(run)
    inprocess = Counter(
        e.data["target"] for e in _inprocess_runs(events) if e.data.get("target_kind") == "job"
    )
    rows = [
        {"name": name, **_outcomes(grouped.get(name, [])), "inprocess_runs": inprocess[name]}
        for name in set(grouped) | set(inprocess)
    ]
    return sorted(rows, key=lambda r: (-(r["runs"] + r["inprocess_runs"]), r["name"]))


def most_used_assets(runs: Sequence[StatsRun], events: Sequence[Event]) -> list[dict[str, Any]]:
    """Per asset: daglab's runs that selected or materialized it, its materializations, and the
    in-process runs that materialized it."""
    in_runs: Counter[str] = Counter()
    materializations: Counter[str] = Counter()
    for run in runs:
        in_runs.update(set(run.asset_selection) | set(run.materialized))
        materializations.update(run.materialized)
    inprocess: Counter[str] = Counter()
    for event in _inprocess_runs(events):
        made = event.data.get("materialized")
        keys = set(made) if isinstance(made, list) else set()
        if event.data.get("target_kind") == "asset":
            keys.add(event.data["target"])
        inprocess.update(k for k in keys if isinstance(k, str))
    rows = [
        {
            "key": key,
            "runs": in_runs[key],
            "materializations": materializations[key],
            "inprocess_runs": inprocess[key],
        }
        for key in set(in_runs) | set(inprocess)
    ]
    return sorted(rows, key=lambda r: (-(r["runs"] + r["inprocess_runs"]), r["key"]))


def summarise_inprocess(events: Sequence[Event]) -> dict[str, Any]:
    runs = _inprocess_runs(events)
    succeeded = sum(e.data.get("success") is True for e in runs)
    peaks = [p for e in runs if (p := _seconds(e, "rss_peak_delta")) is not None]
    return {
        "total": len(runs),
        "succeeded": succeeded,
        "failed": len(runs) - succeeded,
        "success_rate": _rate(succeeded, len(runs)),
        "duration": describe(_seconds(e) for e in runs),
        "mean_rss_peak_delta_bytes": int(statistics.fmean(peaks)) if peaks else None,
    }


def compare_timing(runs: Sequence[StatsRun], events: Sequence[Event]) -> list[dict[str, Any]]:
    """Per target: mean in-process against mean UI duration (successful runs on both sides)."""
    ui: dict[tuple[str, str], list[StatsRun]] = {}
    for run in runs:
        if run.status == "SUCCESS" and run.duration is not None:
            ui.setdefault(run.target, []).append(run)
    local: dict[tuple[str, str], list[float]] = {}
    for event in _inprocess_runs(events):
        seconds = _seconds(event)
        if event.data.get("success") is True and seconds is not None:
            key = (str(event.data.get("target_kind") or "job"), event.data["target"])
            local.setdefault(key, []).append(seconds)
    rows = []
    for key in set(ui) | set(local):
        ui_mean = _mean([d for r in ui.get(key, []) if (d := r.duration) is not None])
        ui_wall = _mean([w for r in ui.get(key, []) if (w := r.wall) is not None])
        local_mean = _mean(local.get(key, []))
        ratio = ui_mean / local_mean if ui_mean is not None and local_mean else None
        rows.append(
            {
                "target": key[1],
                "kind": key[0],
                "inprocess_runs": len(local.get(key, [])),
                "inprocess_mean_s": _round(local_mean),
                "ui_runs": len(ui.get(key, [])),
                "ui_mean_s": _round(ui_mean),
                "ui_wall_mean_s": _round(ui_wall),
                "ratio": _round(ratio, 2),
            }
        )
    return sorted(
        rows,
        key=lambda r: (r["ratio"] is None, -(r["ui_runs"] + r["inprocess_runs"]), r["target"]),
    )


def _size(data: Mapping[str, Any]) -> int | None:
    value = data.get("bytes")  # as _export records it
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(event: Event, keys: Sequence[str]) -> dict[str, Any]:
    return {"at": iso(event.at), **{k: event.data.get(k) for k in keys}}


def summarise_exports(events: Sequence[Event]) -> dict[str, Any]:
    exports = [e for e in events if e.kind == "export"]
    sizes = [s for e in exports if (s := _size(e.data)) is not None]
    # An export names no asset; attaching it does, pointing at the exported file.
    attached = {
        str(e.data["html"]): e.data.get("asset")
        for e in events
        if e.kind == "attach" and e.data.get("html")
    }
    last = []
    for event in reversed(exports[-LAST:]):
        entry = _entry(event, ("path", "asset", "notebook", "uploaded"))
        entry["asset"] = entry["asset"] or attached.get(str(entry["path"]))
        last.append({**entry, "size": _size(event.data)})
    return {
        "total": len(exports),
        "total_bytes": sum(sizes),
        "notebooks": len({e.data.get("notebook") for e in exports if e.data.get("notebook")}),
        "last": last,
    }


def summarise_attaches(events: Sequence[Event]) -> dict[str, Any]:
    attaches = [e for e in events if e.kind == "attach"]
    return {
        "total": len(attaches),
        "assets": _counted(Counter(str(e.data["asset"]) for e in attaches if e.data.get("asset"))),
        "last": [
            _entry(e, ("asset", "partition", "html", "url")) for e in reversed(attaches[-LAST:])
        ],
    }


def summarise_sweeps(events: Sequence[Event], runs: Sequence[StatsRun]) -> dict[str, Any]:
    sweeps = [e for e in events if e.kind == "sweep"]
    jobs = {r.tags[SWEEP_TAG]: r.target[1] for r in runs if SWEEP_TAG in r.tags}
    last = []
    for event in reversed(sweeps[-LAST:]):
        entry = _entry(event, ("sweep_id", "target", "file", "count", "successes", "duration_s"))
        if entry["target"] is None:  # recorded without it: Dagster knows the sweep's job
            entry["target"] = jobs.get(str(entry["sweep_id"]))
        last.append(entry)
    counts = [c for e in sweeps if isinstance(c := e.data.get("count"), int)]
    return {"total": len(sweeps), "runs": sum(counts), "last": last}


@dataclass
class Stats:
    """What ``daglab stats`` shows; :meth:`to_dict` is its JSON form."""

    since: float | None
    generated_at: float
    root: Path
    dagster: DagsterPart
    history: HistoryPart
    max_runs: int = MAX_RUNS

    @functools.cached_property
    def report(self) -> dict[str, Any]:
        runs, events = self.dagster.runs, self.history.events
        kinds = Counter(e.kind for e in events)
        return {
            "headline": self.headline(),
            "since": iso(self.since),
            "since_epoch": self.since,
            "generated_at": iso(self.generated_at),
            "project": str(self.root),
            "dagster": {
                "available": self.dagster.available,
                "endpoint": self.dagster.endpoint,
                "error": self.dagster.error,
                "remediation": self.dagster.remediation,
                "truncated": self.dagster.truncated,
                "max_runs": self.max_runs,
            },
            "runs": summarise_runs(runs) if self.dagster.available else None,
            "jobs": most_used_jobs(runs, events),
            "assets": most_used_assets(runs, events),
            "inprocess": summarise_inprocess(events),
            "comparison": compare_timing(runs, events),
            "exports": summarise_exports(events),
            "attaches": summarise_attaches(events),
            "sweeps": summarise_sweeps(events, runs),
            "history": {
                "available": self.history.available,
                "path": str(self.history.path),
                "events": len(events),
                "by_kind": _counted(kinds),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)

    def headline(self) -> str:
        """One sentence: how many runs, how many succeeded, how long they took."""
        since = f" since {since_label(self.since)}" if self.since is not None else ""
        if not self.dagster.available:
            return f"Dagster unavailable at {self.dagster.endpoint}: the local history only{since}."
        runs = self.dagster.runs
        if not runs:
            return f"No runs launched by daglab{since}."
        outcome = _outcomes(runs)
        rate = outcome["success_rate"]
        succeeded = f"{outcome['succeeded']} succeeded"
        if rate is not None:
            of = f" of {outcome['finished']} finished" if outcome["in_flight"] else ""
            succeeded += f" ({rate:.0%}{of})"
        mean = outcome["mean_duration_s"]
        more = "+" if self.dagster.truncated else ""
        text = f"{len(runs)}{more} run{'s' if len(runs) != 1 else ''} launched by daglab{since}"
        text += f": {succeeded}"
        if mean is not None:
            text += f", mean {format_seconds(mean)}"
        return text + "."


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def format_percent(value: float | None) -> str:
    """``83%``; ``-`` for nothing."""
    return "-" if value is None else f"{value:.0%}"


def format_seconds(value: Any) -> str:
    """``12.3 s``, ``4 min 5 s``, ``2 h 3 min``; ``-`` for nothing."""
    seconds = _number(value)
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)} min {rest:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"


def format_bytes(size: Any) -> str:
    number = _number(size)
    if number is None:
        return "-"
    value = number
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def when(stamp: str | None) -> str:
    """An ISO time from the report as ``2026-11-23 13:16``."""
    return stamp[:16].replace("T", " ") if stamp else "-"


def job_label(name: str) -> str:
    return "(asset selection)" if name == ASSET_JOB else name


# -- charts and the HTML report -----------------------------------------------------------------

PALETTE = {"runs": "#4f46e5", "ok": "#16a34a", "fail": "#dc2626", "local": "#f59e0b"}


def svg_bars(
    rows: Sequence[tuple[str, float, str]],
    *,
    unit: str = "",
    digits: int = 0,
    plural: bool = False,
    width: int = 360,
) -> str:
    """A horizontal bar chart as inline SVG: ``(label, value, colour)`` per bar; with
    ``plural``, the unit takes an ``s`` unless the value is 1."""
    if not rows:
        return ""
    top = max(value for _, value, _ in rows) or 1.0
    bar, gap, left = 18, 8, 210
    height = (bar + gap) * len(rows) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" height="{height}"'
        ' role="img" class="chart" style="font: 12px sans-serif">'
    ]
    for index, (label, value, colour) in enumerate(rows):
        y = gap + index * (bar + gap)
        length = max(1.0, width * value / top) if value > 0 else 0.0
        shown = label if len(label) <= 32 else label[:31] + "…"
        suffix = unit + ("s" if plural and value != 1 else "")
        number = f"{value:.{digits}f}{' ' + suffix if suffix else ''}"
        parts.append(
            f"<g><title>{html.escape(label)}: {html.escape(number)}</title>"
            f'<text x="0" y="{y + 13}">{html.escape(shown)}</text>'
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{left + length + 5:.1f}" y="{y + 13}">{html.escape(number)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(report: Mapping[str, Any], top: int = 10) -> dict[str, str]:
    """The report's charts as inline SVG, by name; a chart with nothing to show is absent."""
    found: dict[str, str] = {}
    runs = report.get("runs") or {}
    launchers = [
        (k, float(v["runs"]), PALETTE["runs"]) for k, v in runs.get("by_launcher", {}).items()
    ]
    if launchers:
        found["launchers"] = svg_bars(launchers, unit="run", plural=True)
    colours = {"SUCCESS": PALETTE["ok"], "FAILURE": PALETTE["fail"]}
    statuses = [
        (k, float(v), colours.get(k, "#6b7280")) for k, v in runs.get("by_status", {}).items()
    ]
    if statuses:
        found["statuses"] = svg_bars(statuses, unit="run", plural=True)
    jobs = [
        (job_label(j["name"]), float(j["runs"] + j["inprocess_runs"]), PALETTE["runs"])
        for j in report.get("jobs", [])[:top]
    ]
    if jobs:
        found["jobs"] = svg_bars(jobs, unit="run", plural=True)
    assets = [
        (a["key"], float(a["runs"] + a["inprocess_runs"]), PALETTE["runs"])
        for a in report.get("assets", [])[:top]
    ]
    if assets:
        found["assets"] = svg_bars(assets, unit="run", plural=True)
    timing: list[tuple[str, float, str]] = []
    paired = [row for row in report.get("comparison", []) if row["ratio"] is not None]
    for row in paired[:top]:
        if row["ui_mean_s"] is not None:
            timing.append((f"UI {row['target']}", row["ui_mean_s"], PALETTE["runs"]))
        if row["inprocess_mean_s"] is not None:
            timing.append(
                (f"in-process {row['target']}", row["inprocess_mean_s"], PALETTE["local"])
            )
    if timing:
        found["timing"] = svg_bars(timing, unit="s", digits=2)
    return found


@functools.cache
def _html_environment() -> jinja2.Environment:
    from daglab._render import environment

    # daglab's one environment, escaping HTML; its own filters go into a copy of the filter table
    # (an overlay shares its parent's).
    env = environment().overlay(autoescape=True, keep_trailing_newline=False)
    env.filters = {
        **env.filters,
        "seconds": format_seconds,
        "bytes": format_bytes,
        "job": job_label,
        "when": when,
        "percent": format_percent,
    }
    return env


def render_html(stats: Stats) -> str:
    """A self-contained HTML page: inline CSS and SVG charts, no script, nothing fetched."""
    import markupsafe

    report = stats.report
    svg = {name: markupsafe.Markup(chart) for name, chart in charts(report).items()}
    template = _html_environment().get_template("stats/report.html.j2")
    return template.render(r=report, charts=svg, generator=GENERATOR)


def render_notebook(*, since: str | None, url: str | None = None, port: int | None = None) -> str:
    """A marimo dashboard notebook that loads the statistics through this module."""
    from daglab._render import render

    try:
        from importlib.metadata import version

        marimo_version = version("marimo")
    except Exception:  # pragma: no cover - marimo is a dependency
        marimo_version = "0.0.0"
    return render(
        "stats/dashboard.py.j2",
        marimo_version=marimo_version,
        since=since or "",
        url=url,
        port=port,
        generator=GENERATOR,
    )


def write_report(path: Path, content: str, *, force: bool = False) -> Path:
    """Write a generated report; a file daglab did not generate is kept unless ``force``."""
    from daglab._fs import atomic_write

    if path.is_dir():
        raise ConflictError(f"{path} is a folder, expected a file")
    if path.exists() and not force:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        if GENERATOR not in head:
            raise ConflictError(
                f"{path} exists and was not written by {GENERATOR}",
                remediation="Choose another path, or pass --force to overwrite it.",
            )
    atomic_write(path, content)
    return path


# -- the notebook dashboard ---------------------------------------------------------------------


def dashboard(
    since: str | None = None,
    *,
    project: Path | str | None = None,
    url: str | None = None,
    port: int | None = None,
) -> Any:
    """The statistics as marimo output: headline, figures, tables and charts.

    A bad ``since`` or configuration becomes a callout with its remedy, never an exception.
    """
    import marimo as mo

    try:
        stats = collect_stats(since or None, project=project, url=url, port=port)
    except DaglabError as exc:
        return mo.callout(mo.md(f"**{exc.message}**\n\n{exc.remediation}"), kind="danger")
    report = stats.report
    parts: list[Any] = [mo.md(f"## {html.escape(report['headline'])}")]
    dagster = report["dagster"]
    if not dagster["available"]:
        parts.append(
            mo.callout(mo.md(f"**{dagster['error']}**\n\n{dagster['remediation']}"), kind="warn")
        )
    runs = report["runs"] or {}
    inprocess = report["inprocess"]
    cards: list[tuple[str, str, str]] = []  # value, label, caption
    if runs:
        duration = runs["duration"]
        cards += [
            (
                str(runs["total"]),
                "runs in Dagster",
                f"success {format_percent(runs['success_rate'])}",
            ),
            (
                format_seconds(duration["mean_s"]),
                "mean duration",
                f"median {format_seconds(duration['median_s'])}",
            ),
        ]
    exports = report["exports"]
    cards += [
        (
            str(inprocess["total"]),
            "in-process runs",
            f"mean {format_seconds(inprocess['duration']['mean_s'])}",
        ),
        (str(exports["total"]), "exports", format_bytes(exports["total_bytes"])),
    ]
    tiles = [mo.stat(value, label=label, caption=caption) for value, label, caption in cards]
    parts.append(mo.hstack(tiles, justify="start"))
    titles = {
        "launchers": "Runs by launcher",
        "statuses": "Runs by status",
        "jobs": "Most-used jobs",
        "assets": "Most-used assets",
        "timing": "In-process vs UI (mean seconds, successful runs)",
    }
    for name, svg in charts(report).items():
        parts += [mo.md(f"### {titles[name]}"), mo.Html(svg)]
    tables = {
        "Jobs": report["jobs"],
        "Assets": report["assets"],
        "In-process vs UI": report["comparison"],
        "Exports": report["exports"]["last"],
        "Sweeps": report["sweeps"]["last"],
    }
    for title, rows in tables.items():
        if rows:
            parts += [mo.md(f"### {title}"), mo.ui.table(rows, selection=None)]
    if not report["history"]["available"]:
        parts.append(mo.md(f"_No local history: {NO_HISTORY}_"))
    return mo.vstack(parts)
