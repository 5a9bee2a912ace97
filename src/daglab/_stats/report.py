"""The report: counts, rates, durations and the latest exports, attaches and sweeps."""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._client._models import (
    NOTEBOOK_TAG,
    SWEEP_TAG,
)
from daglab._history import Event

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._config import LoadedConfig

from daglab._stats.audit import summarise_audit
from daglab._stats.formatting import _number, format_seconds
from daglab._stats.since import iso, parse_since, since_label
from daglab._stats.sources import (
    MAX_RUNS,
    DagsterPart,
    HistoryPart,
    StatsRun,
    read_dagster,
    read_history,
)

#: How many of the latest exports, attaches and sweeps the report lists.
LAST = 10
NO_HISTORY = (
    "in-process runs, exports, sweeps and the audit trail of changes are recorded in"
    " .daglab/history.jsonl of a project set up with `daglab init`."
)

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
            "audit": summarise_audit(events),
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
