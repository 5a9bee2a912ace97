"""The awaitable client and the shared client per endpoint, against the real webserver."""

from __future__ import annotations

import asyncio

import pytest

from daglab import AsyncDagsterClient, DagsterClient
from daglab._client import Run
from daglab._config_models import AuthSettings, AuthType, DagsterSettings
from tests.dagster_server import DagsterServer

pytestmark = pytest.mark.dagster


def settings_for(server: DagsterServer, **extra: object) -> DagsterSettings:
    return DagsterSettings(url=server.url, **extra)  # type: ignore[arg-type]


def test_shared_client_is_one_per_endpoint_and_identity(dagster_server: DagsterServer) -> None:
    settings = settings_for(dagster_server)
    first = DagsterClient.shared(settings)
    assert DagsterClient.shared(settings_for(dagster_server)) is first
    assert DagsterClient.shared(settings, launched_by="sweep") is not first
    assert DagsterClient.shared(settings, sandbox=True) is not first
    bearer = settings_for(dagster_server, auth=AuthSettings(type=AuthType.BEARER))
    with_token = DagsterClient.shared(bearer, token="t1")
    assert with_token is not first
    assert DagsterClient.shared(bearer, token="t2") is not with_token
    assert DagsterClient.shared(bearer, token="t1") is with_token
    # A shared client keeps one connection pool across calls.
    assert first.version() == first.version()
    assert first.transport is first.transport
    for client in (first, with_token):
        client.close()
    assert first.version(), "a shared client stays usable after close()"
    first.close()


def test_async_operations_against_the_server(dagster_server: DagsterServer) -> None:
    client = AsyncDagsterClient(DagsterClient(settings_for(dagster_server), launched_by="test"))

    async def scenario() -> tuple[object, ...]:
        found, version = await asyncio.gather(client.discover(), client.version())
        job = await client.resolve_job("configurable_job")
        problems = await client.validate_config(
            job, {"ops": {"multiply": {"config": {"multiplier": "x"}}}}
        )
        seen: list[str] = []
        run = await client.launch(job, {"ops": {"multiply": {"config": {"multiplier": 3}}}})
        finished = await client.wait(
            run.run_id, timeout=120, on_update=lambda r, _: seen.append(r.status)
        )
        failing = await client.launch(await client.resolve_job("failing_job"))
        failed = await client.wait(failing.run_id, timeout=120)
        reasons = await client.failures(failing.run_id)
        return found, version, problems, run, finished, seen, failed, reasons

    with client:
        found, version, problems, run, finished, seen, failed, reasons = asyncio.run(scenario())
    assert "configurable_job" in {job.name for job in found.jobs}  # type: ignore[attr-defined]
    assert str(version)[0].isdigit()
    assert problems and "multiplier" in str(problems[0].message)  # type: ignore[index]
    assert run.tags["daglab/launched-by"] == "test"  # type: ignore[attr-defined]
    assert client.run_url(run.run_id) == f"{dagster_server.url}/runs/{run.run_id}"  # type: ignore[attr-defined]
    assert finished.status == "SUCCESS"  # type: ignore[attr-defined]
    assert seen[-1] == "SUCCESS"
    assert failed.status == "FAILURE"  # type: ignore[attr-defined]
    assert reasons and reasons[0].step == "failing_op"  # type: ignore[index]


def test_cancelling_an_async_wait_stops_polling(dagster_server: DagsterServer) -> None:
    client = AsyncDagsterClient(DagsterClient(settings_for(dagster_server), launched_by="test"))

    async def scenario() -> tuple[int, str]:
        job = await client.resolve_job("slow_job")
        run = await client.launch(job, {"ops": {"sleep_op": {"config": {"seconds": 30}}}})
        polls: list[str] = []
        started = asyncio.Event()

        def seen(update: Run, _: float) -> None:
            polls.append(update.status)
            if update.status == "STARTED":
                started.set()

        task = asyncio.create_task(client.wait(run.run_id, on_update=seen))
        await asyncio.wait_for(started.wait(), timeout=120)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        count = len(polls)
        await asyncio.sleep(0.8)
        assert len(polls) == count, "the wait went on polling after it was cancelled"
        assert await client.terminate(run.run_id)
        return count, (await client.wait(run.run_id, timeout=60)).status

    with client:
        count, status = asyncio.run(scenario())
    assert count >= 1
    assert status == "CANCELED"
