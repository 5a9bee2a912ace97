"""A run's event log as the webserver has it (``logsForRun``), read page by page with a cursor.

One document (``run_events.graphql``) answers with the run's status and the events after a
cursor, so following a run costs one request per look. :class:`RunLog` gathers what the events
say — each step's start, end and error, the run's failures, the asset checks — and
:func:`follow` waits for a run while reading its log as it grows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daglab._checks import CheckResult
    from daglab._client import DagsterClient, Run, StepFailure

__all__ = ["EventPage", "RunEvent", "RunLog", "Step", "follow", "iter_events", "read_events"]

#: Events asked for per request.
PAGE = 1000

#: A step's state after each kind of step event.
STEP_STATES = {
    "STEP_START": "running",
    "STEP_RESTARTED": "running",
    "STEP_UP_FOR_RETRY": "retrying",
    "STEP_SUCCESS": "succeeded",
    "STEP_FAILURE": "failed",
    "STEP_SKIPPED": "skipped",
}
STEP_ENDED = frozenset({"succeeded", "failed", "skipped"})


@dataclass(frozen=True)
class RunEvent:
    """One event of a run's log."""

    kind: str  # the GraphQL type, e.g. ExecutionStepFailureEvent
    type: str | None  # Dagster's event type, e.g. STEP_FAILURE (None for a plain log message)
    timestamp: float | None  # seconds since the epoch
    level: str | None
    step: str | None
    message: str
    #: For events that carry a Python error: (message, class name, cause's message).
    error: tuple[str, str | None, str | None] | None = None
    #: For asset check evaluations: (asset, check, passed, severity, description).
    check: tuple[str, str, bool, str, str | None] | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> RunEvent:
        stamp = node.get("timestamp")
        error = node.get("error")
        evaluation = node.get("evaluation")
        return cls(
            kind=str(node.get("__typename") or ""),
            type=node.get("eventType"),
            timestamp=int(stamp) / 1000 if stamp not in (None, "") else None,  # milliseconds
            level=node.get("level"),
            step=node.get("stepKey"),
            message=str(node.get("message") or ""),
            error=(
                (
                    str(error.get("message") or "").strip(),
                    error.get("className"),
                    str((error.get("cause") or {}).get("message") or "").strip() or None,
                )
                if error
                else None
            ),
            check=(
                (
                    "/".join(evaluation["assetKey"]["path"]),
                    str(evaluation["checkName"]),
                    bool(evaluation.get("success")),
                    str(evaluation.get("severity") or "ERROR"),
                    evaluation.get("description"),
                )
                if evaluation and node.get("__typename") == "AssetCheckEvaluationEvent"
                else None
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": self.type,
            "timestamp": self.timestamp,
            "level": self.level,
            "step": self.step,
            "message": self.message,
            "error": (
                None
                if self.error is None
                else {"message": self.error[0], "class": self.error[1], "cause": self.error[2]}
            ),
        }


@dataclass(frozen=True)
class EventPage:
    """One answer: the run as it is now and the events after the cursor that was sent."""

    run: Run
    events: tuple[RunEvent, ...]
    cursor: str | None
    has_more: bool


def read_events(
    client: DagsterClient,
    run_id: str,
    *,
    cursor: str | None = None,
    limit: int = PAGE,
    budget: float | None = None,
) -> EventPage:
    """The run and up to ``limit`` of its events after ``cursor`` (None: from the start)."""
    from daglab._client import Run

    data = client.execute(
        "run_events", {"runId": run_id, "cursor": cursor, "limit": limit}, budget=budget
    )
    node = client._check(data["runOrError"], f"run {run_id}")
    page = client._check(data["logsForRun"], f"logs of run {run_id}")
    return EventPage(
        run=Run.from_graphql(dict(node), client.run_url(run_id)),
        events=tuple(RunEvent.from_graphql(e) for e in page.get("events") or ()),
        cursor=page.get("cursor") or cursor,
        has_more=bool(page.get("hasMore")),
    )


def iter_events(
    client: DagsterClient, run_id: str, *, cursor: str | None = None
) -> Iterator[EventPage]:
    """Every page of the run's events after ``cursor``, until there is no more for now."""
    while True:
        page = read_events(client, run_id, cursor=cursor)
        yield page
        if not page.has_more or page.cursor == cursor:
            return
        cursor = page.cursor


@dataclass(frozen=True)
class Step:
    """A step of a run as its events tell it."""

    key: str
    status: str  # running, retrying, succeeded, failed, skipped
    started: float | None = None
    ended: float | None = None
    #: The step's error: (message, class name, cause's message).
    error: tuple[str, str | None, str | None] | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in STEP_ENDED

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.started)

    def elapsed(self, now: float | None = None) -> float | None:
        """Seconds the step ran (or has been running, by the wall clock ``now``)."""
        if self.started is None:
            return None
        end = self.ended if self.ended is not None else (now or time.time())
        return max(0.0, end - self.started)

    def failure(self) -> StepFailure | None:
        from daglab._client import StepFailure

        if self.error is None:
            return None
        return StepFailure(self.key, self.error[0], self.error[1], self.error[2])

    def to_dict(self) -> dict[str, Any]:
        failure = self.failure()
        return {
            "step": self.key,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "duration": self.duration,
            "attempts": self.attempts,
            "error": failure.describe() if failure is not None else None,
        }


@dataclass
class RunLog:
    """What a run's events have said so far; :meth:`fetch` reads what is new."""

    run_id: str
    cursor: str | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    #: The run-level failure messages (RunFailureEvent), for a run that failed outside a step.
    run_errors: list[str] = field(default_factory=list)
    check_events: list[tuple[str, str, bool, str, str | None]] = field(default_factory=list)
    count: int = 0

    def feed(self, events: Sequence[RunEvent]) -> list[Step]:
        """Take ``events`` in; each change of a step's state, in order (a step that started and
        ended within these events appears twice: running, then how it ended)."""
        changed: list[Step] = []
        for event in events:
            self.count += 1
            if event.check is not None:
                self.check_events.append(event.check)
            if event.kind == "RunFailureEvent":
                detail = event.error[2] or event.error[0] if event.error else event.message
                self.run_errors.append(str(detail or event.message).strip())
            state = STEP_STATES.get(event.type or "")
            if state is None or event.step is None:
                continue
            step = self.steps.get(event.step) or Step(event.step, state)
            if event.type in ("STEP_START", "STEP_RESTARTED"):
                step = replace(
                    step,
                    status=state,
                    started=step.started if step.started is not None else event.timestamp,
                    ended=None,
                    attempts=step.attempts + 1,
                )
            elif state in STEP_ENDED:
                step = replace(
                    step,
                    status=state,
                    ended=event.timestamp,
                    error=event.error if state == "failed" else step.error,
                )
            else:
                step = replace(step, status=state, error=event.error or step.error)
            self.steps[event.step] = step
            changed.append(step)
        return changed

    def take(self, page: EventPage) -> list[Step]:
        self.cursor = page.cursor
        return self.feed(page.events)

    def fetch(self, client: DagsterClient) -> list[Step]:
        """Read every event after the cursor; the steps they changed."""
        changed: dict[str, Step] = {}
        for page in iter_events(client, self.run_id, cursor=self.cursor):
            changed.update((s.key, s) for s in self.take(page))
        return list(changed.values())

    def failures(self) -> list[StepFailure]:
        """Each failed step with its error; else the run's own failure messages."""
        from daglab._client import StepFailure

        found = [f for s in self.steps.values() if s.status == "failed" for f in [s.failure()]]
        steps = [f for f in found if f is not None]
        return steps or [StepFailure(None, message) for message in self.run_errors if message]

    def checks(self) -> list[CheckResult]:
        from daglab._checks import CheckResult

        return [
            CheckResult(asset=a, name=n, passed=p, severity=sev, description=d)
            for a, n, p, sev, d in self.check_events
        ]


def follow(
    client: DagsterClient,
    log: RunLog,
    *,
    timeout: float | None,
    on_update: Callable[[Run, float], None] | None = None,
    on_steps: Callable[[list[Step]], None] | None = None,
) -> Run:
    """Wait for the run of ``log`` as ``DagsterClient.wait`` does (same pacing, same riding out
    of an outage), reading its new events with each look; the last state seen."""
    from daglab._errors import ConnectivityError

    poll = client.run_poll(log.run_id, timeout, on_update)
    while True:
        try:
            page = read_events(
                client, log.run_id, cursor=log.cursor, budget=client.look_budget(poll)
            )
        except ConnectivityError as exc:
            time.sleep(poll.lost(exc))
            continue
        changed = log.take(page)
        if on_steps is not None and changed:
            on_steps(changed)
        if page.has_more:
            continue  # a backlog of events: read on before pausing
        pause = poll.after(page.run)
        if pause is None:
            return page.run
        time.sleep(pause)
