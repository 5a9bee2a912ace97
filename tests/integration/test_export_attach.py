"""``daglab export --attach/--job`` against the session's real ``dagster dev``: the observation
in Dagster, its typed entries, partitions, the sandbox, auth, outages and old webservers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from daglab import _history, _manifest
from tests.dagster_server import DagsterServer
from tests.integration.test_export import ensure_a_run, export, latest, leftovers, make_project
from tests.proxy import Proxy, _Handler, _Server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def live(project: Path, dagster_server: DagsterServer) -> Path:
    (project / "daglab.yaml").write_text(f"dagster:\n  url: {dagster_server.url}\n")
    return project


@pytest.mark.dagster
def test_attach_records_an_observation_with_the_metadata(
    live: Path, dagster_server: DagsterServer
) -> None:
    result = export(live, "--no-compress", "--attach", "asset://orders/raw_orders", "--json")
    assert result.exit_code == 0, result
    (attached,) = json.loads(result.stdout)["attached"]
    assert attached["typed"] is False and "DAGSTER_HOME is not set" in attached["typed_note"]
    observation = latest(dagster_server, "orders/raw_orders")
    assert observation is not None
    entries = observation["entries"]
    assert entries["exploration_export_id"]["text"] == attached["export_id"]
    html = live / "notebooks" / "orders.html"
    assert entries["exploration"] == {
        "__typename": "TextMetadataEntry",
        "label": "exploration",
        "text": str(html),
    }
    assert entries["exploration_notebook"]["text"] == str(live / "notebooks" / "orders.py")
    assert entries["exploration_exported_at"]["text"].startswith(time.strftime("%Y-"))
    events = _history.read(live)
    assert [e.kind for e in events if e.kind != "audit"] == ["export", "attach"]
    (audit,) = [e.data for e in events if e.kind == "audit"]  # the change made in Dagster
    assert audit["operation"] == "reportAssetObservation" and audit["outcome"] == "ok"
    # The webserver refuses any other content type; daglab's own request got through above.
    refused = httpx.post(
        f"{dagster_server.url}/report_asset_observation/orders/raw_orders",
        content=b"{}",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert refused.status_code == 400 and "Unhandled content type" in refused.text


@pytest.mark.dagster
def test_the_sandbox_refuses_attach_before_anything_is_written(live: Path) -> None:
    with (live / "daglab.yaml").open("a") as handle:
        handle.write("security:\n  sandbox_mode: true\n")
    result = export(live, "--no-compress", "--attach", "asset://orders/raw_orders")
    assert result.exit_code == 6, result
    assert "sandbox" in result.stderr
    assert leftovers(live / "notebooks") == []
    assert _manifest.generated(live) == {}
    # nothing but the refusal itself, in the audit trail
    assert [(e.kind, e.data["outcome"]) for e in _history.read(live)] == [("audit", "refused")]


@pytest.mark.dagster
def test_attach_to_a_partition_with_a_metadata_key_from_config(
    live: Path, dagster_server: DagsterServer
) -> None:
    with (live / "daglab.yaml").open("a") as handle:
        handle.write("defaults: {attach_metadata_key: analysis}\n")
    result = export(live, "--attach", "asset://orders/daily_orders:2024-01-05", "--json")
    assert result.exit_code == 0, result
    (attached,) = json.loads(result.stdout)["attached"]
    assert attached["partition"] == "2024-01-05"
    observation = latest(dagster_server, "orders/daily_orders", "2024-01-05")
    assert observation is not None and observation["partition"] == "2024-01-05"
    assert observation["entries"]["analysis_export_id"]["text"] == attached["export_id"]
    assert observation["entries"]["analysis"]["text"].endswith("orders.html.gz")
    unpartitioned = export(live, "--attach", "asset://orders/raw_orders:2024-01-05")
    assert unpartitioned.exit_code == 7 and "is not partitioned" in unpartitioned.stderr


@pytest.mark.dagster
def test_a_partition_the_asset_does_not_have_is_exit_7_and_attaches_nothing(
    live: Path, dagster_server: DagsterServer
) -> None:
    # The webserver itself would record an observation on any partition string.
    result = export(live, "--attach", "asset://orders/daily_orders:2024/01/05")
    assert result.exit_code == 7, result
    assert "has no partition '2024/01/05'" in result.stderr
    assert "did you mean 2024-01-05," in result.stderr
    assert "31 partition keys run from 2024-01-01 to 2024-01-31" in result.stderr
    assert latest(dagster_server, "orders/daily_orders", "2024/01/05") is None
    assert leftovers(live / "notebooks") == []
    assert _history.read(live) == []


@pytest.mark.dagster
def test_a_missing_asset_is_exit_7_with_a_suggestion_and_attaches_nothing(
    live: Path, dagster_server: DagsterServer
) -> None:
    result = export(live, "--attach", "asset://orders/raw_order")
    assert result.exit_code == 7, result
    assert "did you mean orders/raw_orders" in result.stderr
    assert latest(dagster_server, "orders/raw_order") is None
    assert leftovers(live / "notebooks") == []  # checked before the notebook ran
    assert _history.read(live) == []


@pytest.mark.dagster
def test_typed_entries_only_when_dagster_home_is_the_webservers_instance(
    live: Path, dagster_server: DagsterServer, tmp_path: Path
) -> None:
    ensure_a_run(dagster_server, live)
    same = export(
        live,
        "--attach",
        "asset://orders/cleaned_orders",
        "--json",
        env={"DAGSTER_HOME": str(dagster_server.dagster_home)},
    )
    assert same.exit_code == 0, same
    (attached,) = json.loads(same.stdout)["attached"]
    assert attached["typed"] is True, attached
    observation = latest(dagster_server, "orders/cleaned_orders")
    assert observation is not None
    entries = observation["entries"]
    assert entries["exploration_export_id"]["text"] == attached["export_id"]
    assert entries["exploration"]["__typename"] == "PathMetadataEntry"
    assert entries["exploration"]["path"] == str(live / "notebooks" / "orders.html.gz")
    assert entries["exploration_notebook"]["__typename"] == "PathMetadataEntry"

    elsewhere = tmp_path / "another_dagster_home"
    elsewhere.mkdir()
    (elsewhere / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    other = export(
        live,
        "--attach",
        "asset://orders/cleaned_orders",
        "--json",
        env={"DAGSTER_HOME": str(elsewhere)},
    )
    assert other.exit_code == 0, other
    (attached,) = json.loads(other.stdout)["attached"]
    assert attached["typed"] is False
    assert "is not the webserver's instance" in attached["typed_note"]
    observation = latest(dagster_server, "orders/cleaned_orders")
    assert observation is not None
    assert observation["entries"]["exploration_export_id"]["text"] == attached["export_id"]
    assert observation["entries"]["exploration"]["__typename"] == "TextMetadataEntry"


@pytest.mark.dagster
def test_job_attaches_to_every_asset_it_materializes(
    live: Path, dagster_server: DagsterServer
) -> None:
    result = export(live, "--job", "quick_asset_job", "--json")
    assert result.exit_code == 0, result
    attached = {a["asset"]: a for a in json.loads(result.stdout)["attached"]}
    assert sorted(attached) == ["daily_summary", "orders/cleaned_orders", "orders/raw_orders"]
    for key, entry in attached.items():
        observation = latest(dagster_server, key)
        assert observation is not None
        assert observation["entries"]["exploration_export_id"]["text"] == entry["export_id"]
    ops_only = export(live, "--job", "configurable_job")
    assert ops_only.exit_code == 7
    assert "materializes no assets" in ops_only.stderr
    assert "--attach asset://KEY" in ops_only.stderr
    typo = export(live, "--job", "quick_asset_jb")
    assert typo.exit_code == 7 and "did you mean quick_asset_job" in typo.stderr


@pytest.mark.dagster
def test_auth_refused_is_6_and_a_dead_webserver_is_5(
    project: Path, dagster_server: DagsterServer
) -> None:
    guarded = Proxy(dagster_server.url, token="export-token-3141")
    try:
        refused = export(
            project,
            "--attach",
            "asset://orders/raw_orders",
            env={"DAGLAB_DAGSTER__URL": guarded.url},
        )
    finally:
        guarded.close()
    assert refused.exit_code == 6, refused
    assert "refused the credentials" in refused.stderr
    down = export(
        project,
        "--attach",
        "asset://orders/raw_orders",
        env={"DAGLAB_DAGSTER__PORT": "9", "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0"},
    )
    assert down.exit_code == 5 and "cannot reach" in down.stderr
    assert leftovers(project / "notebooks") == []


class _NoObservationEndpoint(_Handler):
    """What a webserver without the REST endpoint (or a proxy that hides it) answers."""

    def do_POST(self) -> None:
        if self.path.startswith("/report_asset_observation/"):
            self._reply(404, b"Not Found", "text/plain")
        else:
            super().do_POST()


class _HidingProxy(Proxy):
    def up(self) -> None:
        import threading

        server = _Server(("127.0.0.1", self.port), _NoObservationEndpoint)
        server.proxy = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()


@pytest.mark.dagster
def test_without_the_endpoint_the_compute_helper_is_the_remedy(
    project: Path, dagster_server: DagsterServer
) -> None:
    before = latest(dagster_server, "daily_summary")
    proxy = _HidingProxy(dagster_server.url)
    try:
        result = export(
            project,
            "--attach",
            "asset://daily_summary",
            "--json",
            env={"DAGLAB_DAGSTER__URL": proxy.url},
        )
    finally:
        proxy.close()
    assert result.exit_code == 3, result
    error = json.loads(result.stdout)
    assert "has no /report_asset_observation/ endpoint (HTTP 404)" in error["message"]
    code = error["details"]["compute_helper"]
    assert "context.add_output_metadata(NOTEBOOK_EXPORT)" in code
    assert str(project / "notebooks" / "orders.html.gz") in code
    assert code in error["remediation"]
    compile(code, "helper.py", "exec")
    assert latest(dagster_server, "daily_summary") == before  # nothing attached


@pytest.mark.dagster
def test_helpers_attach_metadata_takes_an_asset_uri(
    live: Path, dagster_server: DagsterServer, tmp_path: Path
) -> None:
    from daglab import helpers

    html = tmp_path / "nb.html"
    html.write_text("<html></html>")
    conn = helpers.connect(project=live)
    attached = helpers.attach_metadata(
        "asset://orders/daily_orders:2024-01-07", {"rows": 7}, html=html, conn=conn
    )
    assert attached.partition == "2024-01-07" and attached.typed is False
    observation = latest(dagster_server, "orders/daily_orders", "2024-01-07")
    assert observation is not None
    assert observation["entries"]["exploration_export_id"]["text"] == attached.export_id
    assert observation["entries"]["exploration"]["text"] == str(html.resolve())
