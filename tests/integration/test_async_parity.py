"""The async client offers every operation of the sync one, with the same parameters, and the
operations added to it work against the real webserver."""

from __future__ import annotations

import asyncio
import inspect
import uuid

import pytest

from daglab._client import DagsterClient, JobRef
from daglab._client._async import AsyncDagsterClient
from daglab._config_models import DagsterSettings
from daglab._errors import AuthenticationError
from tests.dagster_server import LOCATION_NAME, REPOSITORY_NAME, DagsterServer

#: What needs no network stays a plain method on the async client.
LOCAL = {"check_allowed", "run_url", "asset_job_ref", "run_poll", "look_budget", "close"}


def public(cls: type) -> dict[str, object]:
    return {
        name: value
        for name in dir(cls)
        if not name.startswith("_") and (value := inspect.getattr_static(cls, name)) is not None
    }


def test_async_public_surface_covers_the_sync_one() -> None:
    sync, aio = public(DagsterClient), public(AsyncDagsterClient)
    missing = sorted(set(sync) - set(aio))
    assert not missing, f"AsyncDagsterClient lacks {missing}"
    for name, member in sync.items():
        if isinstance(member, property):
            assert isinstance(aio[name], property), name
            continue
        if isinstance(member, classmethod):
            assert isinstance(aio[name], classmethod), name
            same = inspect.signature(member.__func__).parameters
            theirs = inspect.signature(aio[name].__func__).parameters  # type: ignore[attr-defined]
            assert list(theirs) == list(same), name
            continue
        ours = getattr(AsyncDagsterClient, name)
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(getattr(DagsterClient, name)).parameters
        ), f"{name} takes other parameters in the async client"
        assert inspect.iscoroutinefunction(ours) == (name not in LOCAL), name


@pytest.mark.dagster
def test_added_operations_against_the_server(dagster_server: DagsterServer) -> None:
    settings = DagsterSettings(url=dagster_server.url)  # type: ignore[call-arg]
    client = AsyncDagsterClient(DagsterClient(settings, launched_by="test"))
    marker = uuid.uuid4().hex
    keys = [["orders", "raw_orders"], ["orders", "cleaned_orders"], ["daily_summary"]]
    keys.append(["scaled_summary"])

    async def scenario() -> dict[str, object]:
        discovery = await client.discover()
        job = await client.resolve_job("configurable_job", discovery=discovery)
        yaml = await client.default_config_yaml(job)
        asset_job = client.asset_job_ref(keys, discovery)
        run = await client.launch(
            asset_job,
            {
                "ops": {"scaled_summary": {"config": {"multiplier": 3}}},
                # one process for the four steps: a run that ends in seconds, not minutes
                "execution": {"config": {"in_process": {}}},
            },
            tags={"test/marker": marker},
            asset_selection=keys,
        )
        finished = await client.wait(run.run_id, timeout=300)
        metrics = await client.run_metrics(run.run_id)
        tagged = await client.runs(tags={"test/marker": marker}, limit=5)
        version = await client.execute("version")
        partitions = await client.partition_keys(["orders", "daily_orders"])
        await client.report_observation(
            ["daily_summary"], {"marker": marker}, description="from the async client"
        )
        slow = await client.launch(
            await client.resolve_job("slow_job"),
            {"ops": {"sleep_op": {"config": {"seconds": 60}}}},
            tags={"test/marker": marker},
        )
        in_flight = await client.runs_in_flight({"test/marker": marker})
        terminated = await client.terminate(slow.run_id)
        ended = await client.wait(slow.run_id, timeout=120)
        return {
            "yaml": yaml,
            "run": run,
            "finished": finished,
            "metrics": metrics,
            "tagged": tagged,
            "version": version,
            "partitions": partitions,
            "slow": slow,
            "in_flight": in_flight,
            "terminated": terminated,
            "ended": ended,
        }

    with client:
        got = asyncio.run(scenario())
    # Defaults filled in; the required multiplier is left for the user.
    assert str(got["yaml"]).startswith("ops:\n  multiply:\n    config:\n      label: x")
    assert got["finished"].status == "SUCCESS"  # type: ignore[attr-defined]
    metrics = got["metrics"]
    assert isinstance(metrics, dict)
    assert set(metrics) == {"scaled_summary.value", "scaled_summary.ratio"}
    assert metrics["scaled_summary.ratio"] == pytest.approx(metrics["scaled_summary.value"] / 100)
    assert [r.run_id for r in got["tagged"]][-1] == got["run"].run_id  # type: ignore[index,attr-defined]
    assert isinstance(got["version"], dict) and got["version"]["version"]
    partitions = got["partitions"]
    assert isinstance(partitions, list) and partitions[0] == "2024-01-01" and len(partitions) == 31
    assert [r.run_id for r in got["in_flight"]] == [got["slow"].run_id]  # type: ignore[attr-defined]
    assert got["terminated"] is True
    assert got["ended"].status == "CANCELED"  # type: ignore[attr-defined]


def test_the_sandbox_and_local_methods_are_the_sync_ones() -> None:
    settings = DagsterSettings(url="http://127.0.0.1:9")  # type: ignore[call-arg]
    client = AsyncDagsterClient(DagsterClient(settings, sandbox=True))
    with pytest.raises(AuthenticationError, match="sandbox mode refuses launchRun"):
        client.check_allowed("launch_run")
    job = JobRef("configurable_job", REPOSITORY_NAME, LOCATION_NAME)
    with pytest.raises(AuthenticationError, match="sandbox mode refuses launchRun"):
        asyncio.run(client.launch(job, {}))
    assert client.run_url("abc") == client.sync.run_url("abc")
    assert client.transport is client.sync.transport
    client.close()
