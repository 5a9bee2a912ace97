"""Waiting for a run: the polling (and outage riding) that the sync and async ``wait`` share."""

from __future__ import annotations

import time
from collections.abc import Callable

from daglab._client._models import Run
from daglab._errors import ConnectivityError

# Waiting polls a small query with a capped backoff: the end of a run is seen within POLL_MAX
# plus one request, at no more than five requests a second.
POLL_INITIAL = 0.1
POLL_MAX = 0.2


class RunPoll:
    """The waiting of ``wait`` (sync and async alike): report each state, say when to look again.

    ``after(run)`` returns the pause before the next look, or None once the run has ended or the
    timeout has passed; the interval grows by half each time, up to ``poll_max``. A look that
    cannot reach the server goes to ``lost(error)``: the wait rides out an outage of up to
    ``outage`` seconds since the last answer (the run goes on in Dagster meanwhile), then raises
    an error that says how to resume waiting.
    """

    def __init__(
        self,
        timeout: float | None,
        on_update: Callable[[Run, float], None] | None,
        poll_initial: float,
        poll_max: float,
        *,
        run_id: str = "",
        url: str = "",
        outage: float = 0.0,
    ) -> None:
        self.timeout = timeout
        self.on_update = on_update
        self.interval = poll_initial
        self.poll_max = poll_max
        self.started = time.monotonic()
        self.run_id = run_id
        self.url = url
        self.outage = outage
        self.last_answer = self.started

    def budget(self) -> float | None:
        """Seconds the next look may take (None: the client's own budget)."""
        if self.outage <= 0:
            return None
        return max(1.0, self.last_answer + self.outage - time.monotonic())

    def after(self, run: Run) -> float | None:
        self.last_answer = time.monotonic()
        elapsed = self.last_answer - self.started
        if self.on_update is not None:
            self.on_update(run, elapsed)
        timeout = self.timeout
        if run.finished or (timeout is not None and elapsed >= timeout):
            return None
        pause = self.interval if timeout is None else min(self.interval, timeout - elapsed)
        self.interval = min(self.interval * 1.5, self.poll_max)
        return pause

    def lost(self, error: ConnectivityError) -> float:
        """The pause before looking again after ``error``; raises once the outage is too long."""
        now = time.monotonic()
        silent = now - self.last_answer
        over = self.timeout is not None and now - self.started >= self.timeout
        if silent >= self.outage or over:
            raise ConnectivityError(
                f"lost the Dagster webserver while waiting for run {self.run_id}: no answer for"
                f" {silent:.0f} s (dagster.graphql.wait_outage_seconds is {self.outage:g});"
                f" the run goes on in Dagster. Last error: {error.message}",
                remediation=f"When the webserver is back, resume waiting with"
                f" `daglab wait {self.run_id}`; the run is at {self.url}",
                run_id=self.run_id,
                url=self.url,
                resume=f"daglab wait {self.run_id}",
                **error.details,
            ) from error
        return min(1.0, self.outage - silent)
