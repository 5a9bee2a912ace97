"""``AsyncDagsterClient``: the client's operations as coroutines, for async code and notebooks.

Each call runs the synchronous client's method in a worker thread, so retries, the circuit
breaker, the sandbox, the audit trail and error classification are the same code either way,
and an event loop (marimo's, an agent's) is never blocked while Dagster answers. What needs no
network (``check_allowed``, ``run_url``, ``asset_job_ref``...) is the sync method itself.
A test holds the two clients' public methods equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from daglab._client._client import DagsterClient
from daglab._client._models import ConfigProblem, Discovery, JobRef, Run, StepFailure
from daglab._client._waiting import POLL_INITIAL, POLL_MAX, RunPoll
from daglab._errors import ConnectivityError

if TYPE_CHECKING:
    from daglab._client._transport import Transport
    from daglab._config import LoadedConfig
    from daglab._config_models import DagsterSettings


class AsyncDagsterClient:
    """Wraps a :class:`DagsterClient`; ``sync`` is the wrapped client."""

    def __init__(self, client: DagsterClient) -> None:
        self.sync = client

    @classmethod
    def from_config(
        cls,
        loaded: LoadedConfig,
        *,
        token: str | None = None,
        sandbox: bool | None = None,
        transport: Transport | None = None,
        launched_by: str = "cli",
    ) -> AsyncDagsterClient:
        return cls(
            DagsterClient.from_config(
                loaded, token=token, sandbox=sandbox, transport=transport, launched_by=launched_by
            )
        )

    @classmethod
    def shared(
        cls,
        settings: DagsterSettings,
        *,
        token: str | None = None,
        sandbox: bool = False,
        allowed_operations: Sequence[str] = (),
        launched_by: str = "notebook",
    ) -> AsyncDagsterClient:
        """Wraps the process-wide sync client (see :meth:`DagsterClient.shared`)."""
        return cls(
            DagsterClient.shared(
                settings,
                token=token,
                sandbox=sandbox,
                allowed_operations=allowed_operations,
                launched_by=launched_by,
            )
        )

    @property
    def transport(self) -> Transport:
        return self.sync.transport

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

    # -- no network: the sync methods themselves ----------------------------------------------

    def check_allowed(self, operation: str) -> None:
        self.sync.check_allowed(operation)

    def run_url(self, run_id: str) -> str:
        return self.sync.run_url(run_id)

    def asset_job_ref(self, asset_keys: Sequence[Sequence[str]], discovery: Discovery) -> JobRef:
        return self.sync.asset_job_ref(asset_keys, discovery)

    def run_poll(
        self,
        run_id: str,
        timeout: float | None,
        on_update: Callable[[Run, float], None] | None,
        poll_initial: float = POLL_INITIAL,
        poll_max: float = POLL_MAX,
    ) -> RunPoll:
        return self.sync.run_poll(run_id, timeout, on_update, poll_initial, poll_max)

    def look_budget(self, poll: RunPoll) -> float:
        return self.sync.look_budget(poll)

    # -- requests: the sync method on a worker thread ------------------------------------------

    async def execute(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        budget: float | None = None,
    ) -> Any:
        return await asyncio.to_thread(self.sync.execute, operation, variables, budget=budget)

    async def version(self) -> str:
        return await asyncio.to_thread(self.sync.version)

    async def discover(self) -> Discovery:
        return await asyncio.to_thread(self.sync.discover)

    async def resolve_job(
        self,
        name: str,
        *,
        repository: str | None = None,
        location: str | None = None,
        discovery: Discovery | None = None,
    ) -> JobRef:
        return await asyncio.to_thread(
            self.sync.resolve_job,
            name,
            repository=repository,
            location=location,
            discovery=discovery,
        )

    async def validate_config(
        self,
        job: JobRef,
        run_config: Mapping[str, Any],
        asset_selection: Sequence[Sequence[str]] | None = None,
    ) -> list[ConfigProblem]:
        return await asyncio.to_thread(self.sync.validate_config, job, run_config, asset_selection)

    async def default_config_yaml(self, job: JobRef) -> str:
        return await asyncio.to_thread(self.sync.default_config_yaml, job)

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

    async def run(self, run_id: str, *, budget: float | None = None) -> Run:
        return await asyncio.to_thread(self.sync.run, run_id, budget=budget)

    async def runs(
        self,
        *,
        statuses: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        return await asyncio.to_thread(self.sync.runs, statuses=statuses, tags=tags, limit=limit)

    async def runs_in_flight(self, tags: Mapping[str, str] | None = None) -> list[Run]:
        return await asyncio.to_thread(self.sync.runs_in_flight, tags)

    async def terminate(self, run_id: str) -> bool:
        return await asyncio.to_thread(self.sync.terminate, run_id)

    async def failures(self, run_id: str) -> list[StepFailure]:
        return await asyncio.to_thread(self.sync.failures, run_id)

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        return await asyncio.to_thread(self.sync.run_metrics, run_id)

    async def partition_keys(self, asset_key: Sequence[str]) -> list[str]:
        return await asyncio.to_thread(self.sync.partition_keys, asset_key)

    async def report_observation(
        self,
        asset_key: Sequence[str],
        metadata: Mapping[str, Any],
        *,
        partition: str | None = None,
        description: str | None = None,
    ) -> None:
        await asyncio.to_thread(
            self.sync.report_observation,
            asset_key,
            metadata,
            partition=partition,
            description=description,
        )

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

        The same :class:`RunPoll` as the sync ``wait`` decides each pause and rides out an
        outage; only the sleeping is the event loop's.
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
