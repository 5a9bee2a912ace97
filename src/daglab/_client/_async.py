"""``AsyncDagsterClient``: the client's operations as coroutines, for async code and notebooks.

Each call runs the synchronous client's method in a worker thread, so retries, the circuit
breaker, the sandbox and error classification are the same code either way, and an event loop
(marimo's, an agent's) is never blocked while Dagster answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from daglab._client._client import POLL_INITIAL, POLL_MAX, DagsterClient
from daglab._client._models import ConfigProblem, Discovery, JobRef, Run, StepFailure
from daglab._errors import ConnectivityError


class AsyncDagsterClient:
    """Wraps a :class:`DagsterClient`; ``sync`` is the wrapped client."""

    def __init__(self, client: DagsterClient) -> None:
        self.sync = client

    def close(self) -> None:
        self.sync.close()

    def __enter__(self) -> AsyncDagsterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AsyncDagsterClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def version(self) -> str:
        return await asyncio.to_thread(self.sync.version)

    async def discover(self) -> Discovery:
        return await asyncio.to_thread(self.sync.discover)

    async def resolve_job(
        self, name: str, *, repository: str | None = None, location: str | None = None
    ) -> JobRef:
        return await asyncio.to_thread(
            self.sync.resolve_job, name, repository=repository, location=location
        )

    async def validate_config(
        self,
        job: JobRef,
        run_config: Mapping[str, Any],
        asset_selection: Sequence[Sequence[str]] | None = None,
    ) -> list[ConfigProblem]:
        return await asyncio.to_thread(self.sync.validate_config, job, run_config, asset_selection)

    async def launch(
        self,
        job: JobRef,
        run_config: Mapping[str, Any] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        asset_selection: Sequence[Sequence[str]] | None = None,
    ) -> Run:
        return await asyncio.to_thread(
            self.sync.launch, job, run_config, tags=tags, asset_selection=asset_selection
        )

    async def run(self, run_id: str) -> Run:
        return await asyncio.to_thread(self.sync.run, run_id)

    def run_url(self, run_id: str) -> str:
        return self.sync.run_url(run_id)

    async def terminate(self, run_id: str) -> bool:
        return await asyncio.to_thread(self.sync.terminate, run_id)

    async def runs_in_flight(self, tags: Mapping[str, str] | None = None) -> list[Run]:
        return await asyncio.to_thread(self.sync.runs_in_flight, tags)

    async def failures(self, run_id: str) -> list[StepFailure]:
        return await asyncio.to_thread(self.sync.failures, run_id)

    async def wait(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        on_update: Callable[[Run, float], None] | None = None,
        poll_initial: float = POLL_INITIAL,
        poll_max: float = POLL_MAX,
    ) -> Run:
        """Poll until the run ends (or ``timeout``); cancelling the task stops the polling.

        An outage is ridden out as the sync client's ``wait`` does.
        """
        poll = self.sync.run_poll(run_id, timeout, on_update, poll_initial, poll_max)
        while True:
            try:
                run = await asyncio.to_thread(
                    self.sync.run, run_id, budget=self.sync.look_budget(poll)
                )
            except ConnectivityError as exc:
                await asyncio.sleep(poll.lost(exc))
                continue
            pause = poll.after(run)
            if pause is None:
                return run
            await asyncio.sleep(pause)
