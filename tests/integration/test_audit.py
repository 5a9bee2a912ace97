"""The audit trail against the real webserver: each change daglab makes in Dagster and each
sandbox refusal lands in the project's history with who asked, a digest and the outcome, never
a credential or a config value; `daglab stats` counts them by origin."""

from __future__ import annotations

import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from daglab import _history
from daglab._client import DagsterClient, JobRef
from daglab._client._async import AsyncDagsterClient
from daglab._config_models import AuthSettings, AuthType, DagsterSettings, GraphQLSettings
from daglab._errors import AuthenticationError, ConnectivityError, ValidationError
from tests.conftest import FIXTURES
from tests.dagster_server import LOCATION_NAME, REPOSITORY_NAME, DagsterServer
from tests.proxy import Proxy

pytestmark = pytest.mark.dagster

MULTIPLY = "ops:\n  multiply:\n    config:\n      multiplier: 7\n"
FIELDS = {"kind", "at", "origin", "operation", "digest", "outcome", "run_id"}


def job(name: str) -> JobRef:
    return JobRef(name, REPOSITORY_NAME, LOCATION_NAME)


def make_project(base: Path, server: DagsterServer) -> Path:
    project = Path(shutil.copytree(FIXTURES / "sample_dagster_project", base / "p"))
    (project / ".daglab").mkdir()
    # A team that tightened the sandbox: with --sandbox, nothing may change Dagster.
    (project / "daglab.yaml").write_text(
        f"dagster:\n  url: {server.url}\n"
        "security:\n  allowed_operations: [getRunStatus, getRepositories]\n"
    )
    return project


def audit(project: Path) -> list[dict[str, Any]]:
    return [e.to_dict() for e in _history.read(project, kinds=["audit"])]


@pytest.fixture
def project(dagster_server: DagsterServer, tmp_path: Path) -> Path:
    return make_project(tmp_path, dagster_server)


def test_cli_notebook_and_sandbox_by_origin_in_stats(
    cli: Any, project: Path, dagster_server: DagsterServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daglab import helpers

    launched = cli("run", "--job", "configurable_job", "--config-yaml", MULTIPLY, "--no-wait",
                   "--json", cwd=project)  # fmt: skip
    assert launched.exit_code == 0, launched
    cli_run = json.loads(launched.stdout)["run_id"]
    refused = cli("run", "--job", "configurable_job", "--config-yaml", MULTIPLY, "--sandbox",
                  cwd=project)  # fmt: skip
    assert refused.exit_code != 0, refused
    assert "sandbox mode refuses launchRun" in refused.output

    monkeypatch.chdir(project)  # a notebook runs in its project
    conn = helpers.connect(dagster_server.url, project=project)
    outcome = helpers.run_job("quick_asset_job", conn=conn, wait=False)
    notebook_run = outcome.run.run_id

    events = audit(project)
    assert [(e["origin"], e["operation"], e["outcome"], e["run_id"]) for e in events] == [
        ("cli", "launchRun", "ok", cli_run),
        ("cli", "launchRun", "refused", None),
        ("notebook", "launchRun", "ok", notebook_run),
    ]
    for event in events:
        assert set(event) == FIELDS
        assert re.fullmatch(r"[0-9a-f]{16}", event["digest"])

    result = cli("stats", "--json", cwd=project)
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    trail = report["audit"]
    assert (trail["total"], trail["changes"], trail["refusals"], trail["errors"]) == (3, 2, 1, 0)
    assert trail["by_origin"]["cli"]["by_operation"] == {
        "launchRun": {"changes": 1, "refusals": 1, "errors": 0}
    }
    assert trail["by_origin"]["notebook"]["changes"] == 1
    assert trail["by_operation"] == {"launchRun": {"changes": 2, "refusals": 1, "errors": 0}}
    assert [e["run_id"] for e in trail["last"]] == [notebook_run, None, cli_run]
    # Dagster's part: the same runs, by their launched-by tag.
    by_launcher = report["runs"]["by_launcher"]
    assert by_launcher["cli"]["runs"] >= 1 and by_launcher["notebook"]["runs"] >= 1

    table = cli("stats", cwd=project)
    assert table.exit_code == 0, table
    assert "Changes in Dagster by origin" in table.stdout
    assert re.search(r"cli\s+│\s+launchRun\s+│\s+1\s+│\s+1\s+│\s+0", table.stdout), table.stdout
    assert re.search(r"notebook\s+│\s+launchRun\s+│\s+1\s+│\s+0\s+│\s+0", table.stdout)


def test_every_mutation_kind_and_its_outcome(project: Path, dagster_server: DagsterServer) -> None:
    settings = DagsterSettings(url=dagster_server.url)  # type: ignore[call-arg]
    client = DagsterClient(settings, launched_by="mcp")
    client.history_root = project
    with client:
        run = client.launch(job("quick_asset_job"))
        missing = str(uuid.uuid4())
        with pytest.raises(ValidationError, match="run"):
            client.terminate(missing)  # Dagster answers RunNotFoundError: nothing changed
        client.report_observation(["daily_summary"], {"checked": True})
        with pytest.raises(Exception, match="invalid run config"):
            client.launch(job("configurable_job"), {"ops": {"multiply": {"config": {}}}})
    with AsyncDagsterClient(DagsterClient(settings, launched_by="agent")) as aio:
        aio.sync.history_root = project
        import asyncio

        other = asyncio.run(aio.launch(job("quick_asset_job")))
    events = audit(project)
    assert [(e["origin"], e["operation"], e["outcome"], e["run_id"]) for e in events] == [
        ("mcp", "launchRun", "ok", run.run_id),
        ("mcp", "terminateRun", "error: RunNotFoundError", missing),
        ("mcp", "reportAssetObservation", "ok", None),
        ("mcp", "launchRun", "error: RunConfigValidationInvalid", None),
        ("agent", "launchRun", "ok", other.run_id),
    ]
    # The same variables give the same digest; different ones another.
    assert events[0]["digest"] != events[4]["digest"]  # other launcher tag
    assert len({e["digest"] for e in events}) == len(events)


class _Fails(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"Internal Server Error"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def failing_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fails)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


def test_no_credential_ever_reaches_the_history(
    project: Path, dagster_server: DagsterServer, failing_server: int
) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    password = f"pw-{uuid.uuid4().hex}"
    secret_value = f"value-{uuid.uuid4().hex}"
    proxy = Proxy(dagster_server.url, token=token)
    bearer = AuthSettings(type=AuthType.BEARER)
    quick = GraphQLSettings(max_retries=1, retry_budget_seconds=5)
    try:
        behind = DagsterSettings(url=proxy.url, auth=bearer, graphql=quick)  # type: ignore[arg-type]
        clients = {
            "ok": DagsterClient(behind, token=token),
            "sandbox": DagsterClient(behind, token=token, sandbox=True),
            "401": DagsterClient(behind, token=token[::-1]),
            "500": DagsterClient(
                DagsterSettings(
                    url=f"http://alice:{password}@127.0.0.1:{failing_server}",  # type: ignore[arg-type]
                    graphql=quick,
                ),
                token=token,
            ),
        }
        tags = {"note": secret_value}
        for client in clients.values():
            client.history_root = project
        with clients["ok"] as client:
            run = client.launch(job("quick_asset_job"), tags=tags)
        with pytest.raises(AuthenticationError, match="sandbox"):
            clients["sandbox"].launch(job("quick_asset_job"), tags=tags)
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            clients["401"].launch(job("quick_asset_job"), tags=tags)
        with pytest.raises(ConnectivityError, match="HTTP 500"):
            clients["500"].terminate(run.run_id)
    finally:
        for client in clients.values():
            client.close()
        proxy.close()
    events = audit(project)
    assert [(e["operation"], e["outcome"]) for e in events] == [
        ("launchRun", "ok"),
        ("launchRun", "refused"),
        ("launchRun", "error: AuthenticationError"),
        ("terminateRun", "error: ConnectivityError"),
    ]
    text = _history.history_path(project).read_text()
    for secret in (token, token[::-1], password, secret_value, "alice"):
        assert secret not in text


def test_an_unwritable_history_never_fails_the_change(
    project: Path, dagster_server: DagsterServer
) -> None:
    path = _history.history_path(project)
    path.mkdir()  # the history file cannot be opened
    client = DagsterClient(DagsterSettings(url=dagster_server.url))  # type: ignore[call-arg]
    client.history_root = project
    with client:
        run = client.launch(job("quick_asset_job"))
        assert client.run(run.run_id).run_id == run.run_id
    with pytest.raises(AuthenticationError, match="sandbox"):
        DagsterClient(client.settings, sandbox=True).launch(job("quick_asset_job"))
    assert path.is_dir() and not list(path.iterdir())
