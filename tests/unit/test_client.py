"""The client's request path with a scripted transport: retries, breaker, classification.

Behaviour against a real server lives in tests/integration; these cases are the ones a live
webserver cannot be made to produce on demand (a 502, a timeout after the request was sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stamina

from daglab._client import DagsterClient
from daglab._client._breaker import CircuitBreaker
from daglab._client._transport import Response, TransportError
from daglab._config_models import DagsterSettings
from daglab._errors import AuthenticationError, ConnectivityError, ValidationError

Step = Callable[[dict[str, Any]], Response]


class ScriptedTransport:
    """Answers each request with the next step of a script; records what was sent."""

    def __init__(self, *steps: Step | Response | Exception) -> None:
        self.steps = list(steps)
        self.sent: list[dict[str, Any]] = []

    def post_json(
        self, url: str, payload: dict[str, Any], *, headers: dict[str, str], timeout: float
    ) -> Response:
        self.sent.append({"url": url, "payload": payload, "headers": headers})
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step if isinstance(step, Response) else step(payload)

    def close(self) -> None:
        pass


def ok(data: dict[str, Any]) -> Response:
    return Response(200, {"data": data}, "")


@pytest.fixture(autouse=True)
def fast_retries() -> Any:
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


def client(transport: ScriptedTransport, port: int, **kwargs: Any) -> DagsterClient:
    # each test its own port: breakers are per endpoint and live for the process
    return DagsterClient(DagsterSettings(port=port), transport=transport, **kwargs)


def test_connection_errors_are_retried_then_reported_as_exit_5() -> None:
    refused = TransportError("refused", sent=False)
    transport = ScriptedTransport(refused, refused, refused)
    with pytest.raises(ConnectivityError) as info:
        client(transport, 1101).version()
    assert len(transport.sent) == 3
    assert info.value.exit_code == 5
    assert "dagster dev" in info.value.remediation


def test_a_5xx_is_retried_and_recovers() -> None:
    transport = ScriptedTransport(Response(502, None, "bad gateway"), ok({"version": "1.13"}))
    assert client(transport, 1102).version() == "1.13"
    assert len(transport.sent) == 2


def test_a_mutation_is_not_retried_once_sent() -> None:
    transport = ScriptedTransport(TransportError("timed out", sent=True), ok({}))
    from daglab._client import JobRef

    with pytest.raises(ConnectivityError):
        client(transport, 1103).launch(JobRef("j", "r", "l"))
    assert len(transport.sent) == 1  # a retry could launch the run twice


def test_a_mutation_is_retried_when_it_never_left() -> None:
    launched = ok(
        {
            "launchRun": {
                "__typename": "LaunchRunSuccess",
                "run": {"runId": "abc", "status": "QUEUED", "jobName": "j"},
            }
        }
    )
    transport = ScriptedTransport(TransportError("refused", sent=False), launched)
    from daglab._client import JobRef

    run = client(transport, 1104).launch(JobRef("j", "r", "l"), tags={"x": "y"})
    assert run.run_id == "abc"
    tags = transport.sent[-1]["payload"]["variables"]["executionParams"]["executionMetadata"]
    assert {"key": "daglab/launched-by", "value": "cli"} in tags["tags"]


def test_401_is_exit_6_and_not_retried() -> None:
    transport = ScriptedTransport(Response(401, None, "no"))
    with pytest.raises(AuthenticationError):
        client(transport, 1105).version()
    assert len(transport.sent) == 1


def test_graphql_errors_with_400_are_validation_errors() -> None:
    body = {"errors": [{"message": "Variable '$runId' got invalid value"}]}
    transport = ScriptedTransport(Response(400, body, ""))
    with pytest.raises(ValidationError, match="invalid value"):
        client(transport, 1106).run("x")


def test_unauthorized_typename_is_exit_6() -> None:
    answer = ok({"terminateRun": {"__typename": "UnauthorizedError", "message": "nope"}})
    with pytest.raises(AuthenticationError):
        client(ScriptedTransport(answer), 1107).terminate("x")


def test_a_non_graphql_answer_names_the_url() -> None:
    transport = ScriptedTransport(Response(404, None, "<html>not found</html>"))
    with pytest.raises(ConnectivityError, match="localhost:1108/graphql") as info:
        client(transport, 1108).version()
    assert "path_prefix" in info.value.remediation


def test_sandbox_refuses_mutations_before_sending() -> None:
    transport = ScriptedTransport()
    sandboxed = client(transport, 1109, sandbox=True, allowed_operations=["getRunStatus"])
    from daglab._client import JobRef

    with pytest.raises(AuthenticationError, match="sandbox"):
        sandboxed.launch(JobRef("j", "r", "l"))
    with pytest.raises(AuthenticationError, match="sandbox"):
        sandboxed.terminate("x")
    assert transport.sent == []


def test_bearer_token_goes_in_the_header() -> None:
    from daglab._config_models import AuthSettings, AuthType

    settings = DagsterSettings(port=1110, auth=AuthSettings(type=AuthType.BEARER))
    transport = ScriptedTransport(ok({"version": "1"}))
    DagsterClient(settings, token="tkn-123456", transport=transport).version()
    assert transport.sent[0]["headers"] == {
        "Authorization": "Bearer tkn-123456",
        "Accept-Encoding": "identity",  # loopback: no compression
    }


def test_dagster_plus_uses_its_header() -> None:
    settings = DagsterSettings(url="https://acme.dagster.cloud/prod")
    transport = ScriptedTransport(ok({"version": "1"}))
    DagsterClient(settings, token="agent-token", transport=transport).version()
    assert transport.sent[0]["url"] == "https://acme.dagster.cloud/prod/graphql"
    assert transport.sent[0]["headers"] == {"Dagster-Cloud-Api-Token": "agent-token"}


def test_breaker_opens_fails_fast_and_half_opens() -> None:
    now = [0.0]
    breaker = CircuitBreaker("e", threshold=2, cooldown=10, clock=lambda: now[0])
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(Exception, match="not retrying"):
        breaker.before_call()
    now[0] = 10.5
    assert breaker.state == "half-open"
    breaker.before_call()
    breaker.record_failure()  # the trial failed: open again at once
    assert breaker.state == "open"
    now[0] = 21
    breaker.record_success()
    assert breaker.state == "closed"


def test_open_breaker_stops_hammering_a_dead_server() -> None:
    refused = TransportError("refused", sent=False)
    transport = ScriptedTransport(*([refused] * 6))
    dead = client(transport, 1111)
    for _ in range(2):
        with pytest.raises(ConnectivityError):
            dead.version()
    assert len(transport.sent) == 5  # threshold reached: the sixth attempt never went out
    with pytest.raises(ConnectivityError, match="not retrying"):
        dead.version()
    assert len(transport.sent) == 5


def _discovery_answer(*places: tuple[str, str]) -> Response:
    entries = {}
    for location, job in places:
        entry = entries.setdefault(
            location,
            {
                "name": location,
                "loadStatus": "LOADED",
                "locationOrLoadError": {
                    "__typename": "RepositoryLocation",
                    "name": location,
                    "repositories": [{"name": "__repository__", "jobs": [], "assetGroups": []}],
                },
            },
        )
        entry["locationOrLoadError"]["repositories"][0]["jobs"].append(
            {"name": job, "description": None, "isAssetJob": False, "tags": []}
        )
    return ok(
        {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": list(entries.values()),
            },
            "assetNodes": [],
        }
    )


def test_a_unique_job_is_resolved_without_repo_or_location() -> None:
    transport = ScriptedTransport(_discovery_answer(("etl", "nightly"), ("ml", "train")))
    ref = client(transport, 1112).resolve_job("train")
    assert (ref.location, ref.repository) == ("ml", "__repository__")


def test_an_ambiguous_job_lists_the_candidates() -> None:
    transport = ScriptedTransport(_discovery_answer(("etl", "nightly"), ("ml", "nightly")))
    with pytest.raises(ValidationError) as info:
        client(transport, 1113).resolve_job("nightly")
    assert "--location etl" in info.value.message and "--location ml" in info.value.message


def test_an_unknown_job_suggests_the_closest() -> None:
    transport = ScriptedTransport(_discovery_answer(("etl", "nightly")))
    with pytest.raises(ValidationError, match="did you mean nightly"):
        client(transport, 1114).resolve_job("nighty")


def run_answer(status: str) -> Response:
    return ok({"runOrError": {"__typename": "Run", "runId": "r1", "status": status}})


def test_a_wait_rides_out_a_short_outage() -> None:
    refused = TransportError("refused", sent=False)
    transport = ScriptedTransport(run_answer("STARTED"), refused, refused, refused)
    transport.steps.append(run_answer("SUCCESS"))
    settings = DagsterSettings(port=1121, graphql={"wait_outage_seconds": 5})
    waiting = DagsterClient(settings, transport=transport)
    assert waiting.wait("r1", timeout=30).status == "SUCCESS"
    assert len(transport.sent) == 5


def test_a_long_outage_ends_the_wait_with_the_way_to_resume() -> None:
    refused = TransportError("refused", sent=False)
    transport = ScriptedTransport(run_answer("STARTED"), *([refused] * 50))
    settings = DagsterSettings(port=1122, graphql={"wait_outage_seconds": 0.5})
    waiting = DagsterClient(settings, transport=transport)
    with pytest.raises(ConnectivityError) as info:
        waiting.wait("r1", timeout=30)
    assert "while waiting for run r1" in info.value.message
    assert info.value.details["resume"] == "daglab wait r1"
    assert info.value.details["url"] == "http://localhost:1122/runs/r1"
    assert "daglab wait r1" in info.value.remediation
