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

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._client._models import (
    ASSET_JOB,
    LAUNCHED_BY_TAG,
    TERMINAL_STATUSES,
    tags_from_graphql,
)
from daglab._errors import DaglabError
from daglab._history import Event

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._config import LoadedConfig


KNOWN_LAUNCHERS = ("cli", "notebook", "sweep")
#: At most this many runs are read from Dagster (newest first).
MAX_RUNS = 10_000
PAGE_SIZE = 200
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
