"""``daglab logs`` and the MCP ``run_logs`` tool: a run's event log, page by page or followed.

Built on :mod:`daglab._events` (one ``run_events.graphql`` request per page). Filters by level
and step apply to what a page returns; the cursor always moves past everything read, so the next
page starts where this one ended whatever was filtered out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daglab._errors import UsageError

if TYPE_CHECKING:
    from daglab._client import DagsterClient, Run
    from daglab._events import RunEvent

#: Dagster's event levels, lowest first; ``--level`` keeps events at or above one.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class LogFilter:
    level: str | None = None
    steps: tuple[str, ...] = ()

    @classmethod
    def parse(cls, level: str | None, steps: Sequence[str] = ()) -> LogFilter:
        if level is not None and level.upper() not in LEVELS:
            raise UsageError(
                f"level {level!r} is not one of {', '.join(LEVELS)}",
                remediation="Use --level DEBUG, INFO, WARNING, ERROR or CRITICAL.",
            )
        return cls(level.upper() if level else None, tuple(steps))

    def keeps(self, event: RunEvent) -> bool:
        if self.steps and event.step not in self.steps:
            return False
        if self.level is None:
            return True
        return LEVELS.index(event.level or "INFO") >= LEVELS.index(self.level)


@dataclass(frozen=True)
class LogPage:
    """The run as it is now, the events kept from this page, and where the next page starts."""

    run: Run
    events: tuple[RunEvent, ...]
    cursor: str | None
    has_more: bool
    #: Events read but left out by the filter.
    filtered: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.to_dict(),
            "events": [event.to_dict() for event in self.events],
            "cursor": self.cursor,
            "has_more": self.has_more,
            "filtered": self.filtered,
        }


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(
            f"limit {limit} is outside 1..{MAX_LIMIT}",
            remediation=f"Ask for at most {MAX_LIMIT} events a page and follow the cursor.",
        )
    return limit


def read_page(
    client: DagsterClient,
    run_id: str,
    *,
    cursor: str | None = None,
    limit: int = 1000,
    where: LogFilter | None = None,
) -> LogPage:
    """Up to ``limit`` events after ``cursor`` (None: from the start), filtered by ``where``."""
    from daglab._events import read_events

    page = read_events(client, run_id, cursor=cursor, limit=check_limit(limit))
    where = where or LogFilter()
    kept = tuple(event for event in page.events if where.keeps(event))
    return LogPage(page.run, kept, page.cursor, page.has_more, len(page.events) - len(kept))


def read_all(
    client: DagsterClient,
    run_id: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    where: LogFilter | None = None,
    on_page: Callable[[LogPage], None],
) -> LogPage:
    """Pages until there is no more for now, or ``limit`` events were kept; the last page."""
    kept = 0
    while True:
        size = 1000 if limit is None else min(1000, limit - kept)
        page = read_page(client, run_id, cursor=cursor, limit=size, where=where)
        on_page(page)
        kept += len(page.events)
        if not page.has_more or page.cursor == cursor or (limit is not None and kept >= limit):
            return page
        cursor = page.cursor


def follow(
    client: DagsterClient,
    run_id: str,
    *,
    cursor: str | None = None,
    where: LogFilter | None = None,
    timeout: float | None = None,
    on_page: Callable[[LogPage], None],
) -> LogPage:
    """Read on as the log grows until the run ends (and its last events are read), or until
    ``timeout``; an outage is ridden out as a wait rides it out. The last page."""
    from daglab._errors import ConnectivityError
    from daglab._events import read_events

    where = where or LogFilter()
    poll = client.run_poll(run_id, timeout, None)
    while True:
        try:
            page_raw = read_events(
                client, run_id, cursor=cursor, limit=1000, budget=client.look_budget(poll)
            )
        except ConnectivityError as exc:
            time.sleep(poll.lost(exc))
            continue
        kept = tuple(event for event in page_raw.events if where.keeps(event))
        page = LogPage(
            page_raw.run,
            kept,
            page_raw.cursor,
            page_raw.has_more,
            len(page_raw.events) - len(kept),
        )
        on_page(page)
        cursor = page.cursor
        if page.has_more:
            continue
        pause = poll.after(page.run)
        if pause is None:
            return page
        time.sleep(pause)
