"""``Retry-After`` on 429 and 503, against the real webserver behind a throttling proxy.

The proxy answers the first requests with 429 or 503 and a ``Retry-After`` (seconds or an
HTTP-date), then forwards to the real `dagster dev`; it records when each request arrived, so
the pauses measured are the client's own.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from daglab._client import DagsterClient, JobRef
from daglab._client._async import AsyncDagsterClient
from daglab._client._retries import retry_after_seconds
from daglab._config_models import DagsterSettings, GraphQLSettings
from daglab._errors import ConnectivityError
from tests.dagster_server import LOCATION_NAME, REPOSITORY_NAME, DagsterServer, graphql
from tests.proxy import _operation_name

pytestmark = pytest.mark.dagster

RUNS_TAGGED = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
  ... on Runs { results { runId } } } }"""


class Throttle:
    """Answers ``status`` with ``Retry-After: retry_after()`` to the first ``times`` requests."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.status = 429
        self.times = 0
        self.retry_after: Any = lambda: "1"
        self.arrivals: list[tuple[float, str, int]] = []  # (when, operation, status answered)
        self.client = httpx.Client(timeout=60)
        throttle = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = _operation_name(body)
                if throttle.times > 0:
                    throttle.times -= 1
                    throttle.arrivals.append((time.monotonic(), operation, throttle.status))
                    self.send_response(throttle.status)
                    self.send_header("Retry-After", throttle.retry_after())
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "4")
                    self.end_headers()
                    self.wfile.write(b"slow")
                    return
                answer = throttle.client.post(
                    throttle.upstream + self.path,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                throttle.arrivals.append((time.monotonic(), operation, answer.status_code))
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def gaps(self) -> list[float]:
        times = [at for at, _, _ in self.arrivals]
        return [b - a for a, b in itertools.pairwise(times)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.client.close()


@pytest.fixture
def throttle(dagster_server: DagsterServer) -> Any:
    proxy = Throttle(dagster_server.url)
    yield proxy
    proxy.close()


def tagged(marker: str) -> dict[str, Any]:
    return {"tags": [{"key": "test/marker", "value": marker}]}


def client_for(throttle: Throttle, **graphql: Any) -> DagsterClient:
    options = {"max_retries": 5, "retry_budget_seconds": 30.0, **graphql}
    settings = DagsterSettings(url=throttle.url, graphql=GraphQLSettings(**options))  # type: ignore[arg-type]
    return DagsterClient(settings, launched_by="test")


def test_parsing_both_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0 ") == 0.0
    now = time.time()
    assert retry_after_seconds(formatdate(now + 10, usegmt=True), now=now) == pytest.approx(
        10, abs=1
    )
    assert retry_after_seconds(formatdate(now - 60, usegmt=True), now=now) == 0.0
    for bad in (None, "", "soon", "-1", "1.5e3"):
        assert retry_after_seconds(bad) is None


@pytest.mark.parametrize("status", [429, 503])
def test_a_query_waits_as_asked_then_gets_its_answer(throttle: Throttle, status: int) -> None:
    throttle.status, throttle.times = status, 2
    throttle.retry_after = lambda: "1"
    started = time.monotonic()
    with client_for(throttle) as client:
        version = client.version()
    assert version, "the real webserver answered in the end"
    assert [s for _, _, s in throttle.arrivals] == [status, status, 200]
    # Each pause is the second asked for, not the 0.2 s backoff nor a longer one.
    assert all(0.95 <= gap < 2.5 for gap in throttle.gaps()), throttle.gaps()
    assert time.monotonic() - started >= 2.0


def test_an_http_date_is_honoured(throttle: Throttle) -> None:
    throttle.status, throttle.times = 503, 1
    throttle.retry_after = lambda: formatdate(time.time() + 3, usegmt=True)
    with client_for(throttle) as client:
        assert client.discover().jobs
    (gap,) = throttle.gaps()
    assert 1.5 <= gap < 4.5, gap  # the date has a resolution of one second


def test_a_pause_beyond_the_budget_gives_up_at_once(throttle: Throttle) -> None:
    throttle.status, throttle.times = 429, 5
    throttle.retry_after = lambda: "120"
    started = time.monotonic()
    client = client_for(throttle, retry_budget_seconds=5.0)
    with client, pytest.raises(ConnectivityError) as raised:
        client.version()
    assert time.monotonic() - started < 2.0, "no waiting for a pause that cannot fit"
    assert len(throttle.arrivals) == 1
    assert "asked to retry after 120 s, beyond the budget" in raised.value.message


def test_a_launch_refused_with_429_is_sent_again_and_runs_once(
    throttle: Throttle, dagster_server: DagsterServer
) -> None:
    """429: the server did not handle the request, so sending it again cannot duplicate it."""
    marker = uuid.uuid4().hex
    throttle.status, throttle.times = 429, 2
    throttle.retry_after = lambda: "1"
    job = JobRef("quick_asset_job", REPOSITORY_NAME, LOCATION_NAME)
    with client_for(throttle) as client:
        run = client.launch(job, tags={"test/marker": marker})
    assert [(op, s) for _, op, s in throttle.arrivals] == [
        ("DaglabLaunchRun", 429),
        ("DaglabLaunchRun", 429),
        ("DaglabLaunchRun", 200),
    ]
    found = graphql(
        dagster_server, RUNS_TAGGED, {"tags": [{"key": "test/marker", "value": marker}]}
    )
    assert [r["runId"] for r in found["data"]["runsOrError"]["results"]] == [run.run_id]


def test_a_launch_answered_503_is_not_sent_again(
    throttle: Throttle, dagster_server: DagsterServer
) -> None:
    """503 may come from a gateway after the webserver took the launch: never risk a second."""
    marker = uuid.uuid4().hex
    throttle.status, throttle.times = 503, 1
    throttle.retry_after = lambda: "1"
    job = JobRef("quick_asset_job", REPOSITORY_NAME, LOCATION_NAME)
    with client_for(throttle) as client, pytest.raises(ConnectivityError, match="HTTP 503"):
        client.launch(job, tags={"test/marker": marker})
    assert [(op, s) for _, op, s in throttle.arrivals] == [("DaglabLaunchRun", 503)]
    found = graphql(
        dagster_server, RUNS_TAGGED, {"tags": [{"key": "test/marker", "value": marker}]}
    )
    assert found["data"]["runsOrError"]["results"] == []


def test_the_async_client_waits_the_same_way(throttle: Throttle) -> None:
    import asyncio

    throttle.status, throttle.times = 429, 1
    throttle.retry_after = lambda: "1"
    client = AsyncDagsterClient(client_for(throttle))

    async def scenario() -> tuple[str, float]:
        ticks = 0

        async def ticker() -> None:  # the event loop stays free while the client waits
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        task = asyncio.create_task(ticker())
        version = await client.version()
        task.cancel()
        return version, ticks

    with client:
        version, ticks = asyncio.run(scenario())
    assert version
    assert ticks >= 10, ticks
    assert [s for _, _, s in throttle.arrivals] == [429, 200]
