"""``daglab export``: real marimo exports, real attachments in Dagster, real S3 (moto) uploads."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from daglab import _history, _manifest
from daglab._errors import UsageError
from daglab._export import AttachTarget, generate_compute_helper, parse_attach
from tests.conftest import Result, run_daglab
from tests.dagster_server import DagsterServer, graphql

NOTEBOOK = """import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md("Orders exploration: " + str(6 * 7) + " rows")
    return


if __name__ == "__main__":
    app.run()
"""

FAILING = """import marimo

app = marimo.App()


@app.cell
def _():
    raise ValueError("cell exploded on purpose")


if __name__ == "__main__":
    app.run()
"""

OBSERVATION = """query($path: [String!]!, $partitions: [String!]) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetObservations(partitions: $partitions, limit: 1) {
        partition
        timestamp
        metadataEntries {
          __typename label
          ... on TextMetadataEntry { text }
          ... on PathMetadataEntry { path }
          ... on UrlMetadataEntry { url }
        }
      }
    }
  }
}"""
DAY = 86400


def make_project(tmp_path: Path) -> Path:
    """A git root with daglab.yaml, .daglab/ (so history is kept) and one notebook."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".daglab").mkdir()
    (root / "daglab.yaml").write_text("version: '1.0'\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "orders.py").write_text(NOTEBOOK)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def live(project: Path, dagster_server: DagsterServer) -> Path:
    (project / "daglab.yaml").write_text(f"dagster:\n  url: {dagster_server.url}\n")
    return project


def export(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_daglab("export", "notebooks/orders.py", *args, cwd=project, env=env)


def latest(server: DagsterServer, key: str, partition: str | None = None) -> dict[str, Any] | None:
    """The newest observation of ``key`` with its entries by label, or None."""
    variables = {"path": key.split("/"), "partitions": [partition] if partition else None}
    node = graphql(server, OBSERVATION, variables)["data"]["assetOrError"]
    if node["__typename"] != "Asset" or not node["assetObservations"]:
        return None
    observation: dict[str, Any] = node["assetObservations"][0]
    observation["entries"] = {e["label"]: e for e in observation["metadataEntries"]}
    return observation


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".html" in p.name)


def ensure_a_run(server: DagsterServer, cwd: Path) -> None:
    """Typed entries need DAGSTER_HOME proven to be the webserver's: a run both hold."""
    runs = graphql(server, "{ runsOrError(limit: 1) { ... on Runs { results { runId } } } }")
    if not runs["data"]["runsOrError"]["results"]:
        launched = run_daglab("run", "--job", "quick_asset_job", cwd=cwd, timeout=300)
        assert launched.exit_code == 0, launched


# -- export -------------------------------------------------------------------------------------


def test_export_writes_the_html_beside_the_notebook(project: Path) -> None:
    result = export(project, "--no-compress", "--json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    html = project / "notebooks" / "orders.html"
    assert report["export"]["path"] == str(html)
    assert report["export"]["compressed"] is False and report["attached"] == []
    text = html.read_text()
    assert text.lstrip().lower().startswith("<!doctype html>") and "marimo" in text
    assert "Orders exploration" in text
    assert report["export"]["size"] == html.stat().st_size
    assert leftovers(project / "notebooks") == ["orders.html"]  # no scratch file left
    events = _history.read(project, kinds=["export"])
    assert len(events) == 1 and events[0].data["path"] == str(html)


def test_compress_writes_gzip_that_decompresses_to_the_html(project: Path) -> None:
    out = project / "site"  # a folder (made here), so the file keeps the notebook's name
    result = export(project, "--compress", "--output", str(out))
    assert result.exit_code == 0, result
    data = (out / "orders.html.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    html = gzip.decompress(data)
    assert html.startswith(b"<!DOCTYPE html>") and b"Orders exploration" in html
    assert "orders.html.gz" in result.stdout


def age(path: Path, days: float = 10) -> None:
    old = time.time() - days * DAY
    os.utime(path, (old, old))


def test_retention_removes_only_old_exports_daglab_recorded(project: Path) -> None:
    # the flag wins over export.retention_days; export.compress: false is the default used
    (project / "daglab.yaml").write_text("export: {retention_days: 1000, compress: false}\n")
    folder = project / "notebooks"
    (folder / "orders-v2.py").write_text(NOTEBOOK)  # another notebook, with its own exports
    for name in ("orders-2024-01-05.html", "orders-2024-02-01.html"):
        assert export(project, "--output", f"notebooks/{name}").exit_code == 0
    assert run_daglab("export", "notebooks/orders-v2.py", cwd=project).exit_code == 0
    age(folder / "orders-2024-01-05.html")
    age(folder / "orders-v2.html")
    # the user's own files, named as retention used to match them, old as well
    for name in ("orders-2023-notes.html", "orders.html.gz", "other.html"):
        (folder / name).write_text("<html>mine</html>")
        age(folder / name)
    edited = folder / "orders-2024-02-01.html"  # daglab's, but edited since: the user's now
    edited.write_text("<html>my notes</html>")
    age(edited)
    result = export(project, "--retention-days", "5", "--json")
    assert result.exit_code == 0, result
    removed = [Path(p).name for p in json.loads(result.stdout)["export"]["removed"]]
    assert removed == ["orders-2024-01-05.html"]
    assert leftovers(folder) == [
        "orders-2023-notes.html",
        "orders-2024-02-01.html",
        "orders-v2.html",
        "orders.html",
        "orders.html.gz",
        "other.html",
    ]
    assert (folder / "orders-2023-notes.html").read_text() == "<html>mine</html>"
    assert edited.read_text() == "<html>my notes</html>"
    recorded = _manifest.generated(project, kind="export")
    assert "notebooks/orders-2024-01-05.html" not in recorded  # forgotten with the file
    assert "notebooks/orders.html" in recorded


def test_an_existing_file_daglab_did_not_write_is_exit_8_unless_force(project: Path) -> None:
    html = project / "notebooks" / "orders.html"
    html.write_text("<html>the user's page</html>")
    refused = export(project, "--no-compress")
    assert refused.exit_code == 8, refused
    assert "orders.html" in refused.stderr and "--force" in refused.stderr
    assert html.read_text() == "<html>the user's page</html>"
    assert _manifest.generated(project, kind="export") == {}
    forced = export(project, "--no-compress", "--force")
    assert forced.exit_code == 0, forced
    assert "Orders exploration" in html.read_text()
    again = export(project, "--no-compress")  # daglab's own, unchanged: replaced freely
    assert again.exit_code == 0, again
    html.write_text(html.read_text() + "<!-- my note -->")
    edited = export(project, "--no-compress")
    assert edited.exit_code == 8 and html.read_text().endswith("<!-- my note -->")


def test_output_outside_the_project_is_allowed_but_never_retained_or_made(
    project: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    first = export(project, "--no-compress", "--output", str(site / "orders-2020-01-01.html"))
    assert first.exit_code == 0, first
    age(site / "orders-2020-01-01.html")
    (site / "orders-2023-notes.html").write_text("mine")
    age(site / "orders-2023-notes.html")
    result = export(project, "--no-compress", "--output", str(site), "--retention-days", "0")
    assert result.exit_code == 0, result
    assert (
        json.loads(export(project, "--no-compress", "--output", str(site), "--json").stdout)[
            "export"
        ]["removed"]
        == []
    )
    assert leftovers(site) == ["orders-2020-01-01.html", "orders-2023-notes.html", "orders.html"]
    # recorded by absolute path, so the next export to the same place may replace it
    assert str(site / "orders.html") in _manifest.generated(project, kind="export")
    deep = tmp_path / "no" / "such" / "folder"
    missing = export(project, "--no-compress", "--output", str(deep))
    assert missing.exit_code == 7, missing
    assert "does not exist" in missing.stderr and not (tmp_path / "no").exists()


def test_empty_binary_and_overlong_names_are_exit_7_naming_the_file(
    project: Path, cli: Any
) -> None:
    folder = project / "notebooks"
    for name, content in (("empty.py", b""), ("blank.py", b"\n  \n"), ("nul.py", b"\0" * 64)):
        (folder / name).write_bytes(content)
        result = cli("export", f"notebooks/{name}", cwd=project)
        assert result.exit_code == 7, (name, result)
        assert name in result.stderr
    long_name = "n" * 300 + ".py"
    result = cli("export", f"notebooks/{long_name}", cwd=project)
    assert result.exit_code == 7, result
    assert "303 bytes" in result.stderr
    assert "nnnnnnnn" in result.stderr
    long_output = cli("export", "notebooks/orders.py", "--output", "o" * 300 + ".html", cwd=project)
    assert long_output.exit_code == 7 and "ooooooo" in long_output.stderr, long_output
    assert leftovers(folder) == []


def test_a_failing_cell_is_exit_7_and_leaves_nothing(project: Path) -> None:
    (project / "notebooks" / "orders.py").write_text(FAILING)
    result = export(project, "--no-compress")
    assert result.exit_code == 7, result
    assert "cell exploded on purpose" in result.stderr
    assert "marimo edit" in result.stderr
    assert leftovers(project / "notebooks") == []
    elsewhere = export(project, "--output", str(project / "site"))
    assert elsewhere.exit_code == 7 and not (project / "site").exists()
    assert _history.read(project, kinds=["export"]) == []


def test_bad_input_exit_codes(project: Path, cli: Any) -> None:
    missing = cli("export", "notebooks/nope.py", cwd=project)
    assert missing.exit_code == 7 and "no such notebook" in missing.stderr
    nothing = cli("export", cwd=project)
    assert nothing.exit_code == 2 and "which notebook" in nothing.stderr
    for bad in ("orders/raw_orders", "asset://", "asset://orders//x", "asset://orders:"):
        result = cli("export", "notebooks/orders.py", "--attach", bad, cwd=project)
        assert result.exit_code == 2, (bad, result)
        assert "asset://KEY[:PARTITION]" in result.stderr
    scheme = cli("export", "notebooks/orders.py", "--upload", "ftp://h/x", "--json", cwd=project)
    assert scheme.exit_code == 2
    assert json.loads(scheme.stdout)["message"].endswith("unknown storage ftp://")
    for conflict in (
        ["--attach", "asset://a", "--job", "j"],
        ["--upload", "s3://b", "--no-upload"],
    ):
        result = cli("export", "notebooks/orders.py", *conflict, cwd=project)
        assert result.exit_code == 2 and "not both" in result.stderr
    assert leftovers(project / "notebooks") == []  # nothing ran


def test_parse_attach() -> None:
    assert parse_attach("asset://orders/daily_orders:2024-01-05") == AttachTarget(
        ("orders", "daily_orders"), "2024-01-05"
    )
    assert parse_attach("asset://top").path == ("top",)
    hourly = parse_attach("asset://events:2024-01-05-10:00")
    assert hourly.partition == "2024-01-05-10:00"
    assert str(hourly) == "asset://events:2024-01-05-10:00"
    with pytest.raises(UsageError):
        parse_attach("asset:/orders")


def test_the_compute_helper_attaches_the_same_metadata_inside_an_asset(tmp_path: Path) -> None:
    import dagster as dg

    html = tmp_path / "nb.html"
    metadata = {
        "exploration": str(html),
        "exploration_signed_url": "https://bucket.example/nb.html?X-Sig=1",
        "exploration_git_commit": "abc123",
        "rows": 3,
    }
    code = generate_compute_helper("orders/raw_orders", metadata)
    assert "context.add_output_metadata(NOTEBOOK_EXPORT)" in code
    assert "dg.MaterializeResult(metadata=NOTEBOOK_EXPORT)" in code

    @dg.asset(key=dg.AssetKey(["orders", "raw_orders"]))
    def raw_orders(context):  # type: ignore[no-untyped-def]
        exec(code, {"context": context})

    with dg.instance_for_test() as instance:
        assert dg.materialize([raw_orders], instance=instance).success
        event = instance.get_latest_materialization_event(dg.AssetKey(["orders", "raw_orders"]))
    assert event is not None and event.asset_materialization is not None
    recorded = event.asset_materialization.metadata
    assert recorded["exploration"] == dg.MetadataValue.path(str(html))
    assert recorded["exploration_signed_url"] == dg.MetadataValue.url(
        metadata["exploration_signed_url"]
    )
    assert recorded["exploration_git_commit"].value == "abc123"
    assert recorded["rows"].value == 3


# -- upload (moto's S3 server) -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a loopback port, stopped by its process group at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "moto_server did not start in 60 s"
                time.sleep(0.2)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (SIGKILL after 15 s); assert nothing of it is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
            break
        except subprocess.TimeoutExpired:
            continue
    survivors = []
    for candidate in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(candidate.pid) == proc.pid and candidate.status() != "zombie":
                survivors.append(candidate.pid)
    assert proc.poll() is not None and not survivors, survivors


SECRET = "moto-secret-key-do-not-print"


def aws_env(endpoint: str, home: Path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
    }


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


@pytest.mark.dagster
def test_upload_to_s3_with_a_signed_url_in_the_metadata(
    live: Path, dagster_server: DagsterServer, s3_endpoint: str, tmp_path: Path
) -> None:
    ensure_a_run(dagster_server, live)
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket="exports")
    env = aws_env(s3_endpoint, tmp_path) | {"DAGSTER_HOME": str(dagster_server.dagster_home)}
    result = export(
        live,
        "--upload",
        "s3://exports/team/notebooks",
        "--attach",
        "asset://orders/raw_orders",
        "--json",
        env=env,
    )
    assert result.exit_code == 0, result
    assert SECRET not in result.output
    report = json.loads(result.stdout)
    local = (live / "notebooks" / "orders.html.gz").read_bytes()
    uploaded = report["export"]["uploaded"]
    assert uploaded["url"] == "s3://exports/team/notebooks/orders.html.gz"
    stored = s3.get_object(Bucket="exports", Key="team/notebooks/orders.html.gz")
    assert stored["Body"].read() == local
    assert stored["ContentType"] == "text/html" and stored["ContentEncoding"] == "gzip"
    with httpx.stream("GET", uploaded["signed_url"]) as answer:
        assert answer.status_code == 200
        assert b"".join(answer.iter_raw()) == local
    (attached,) = report["attached"]
    assert attached["typed"] is True
    observation = latest(dagster_server, "orders/raw_orders")
    assert observation is not None
    entries = observation["entries"]
    assert entries["exploration_export_id"]["text"] == attached["export_id"]
    assert entries["exploration_signed_url"] == {
        "__typename": "UrlMetadataEntry",
        "label": "exploration_signed_url",
        "url": uploaded["signed_url"],
    }
    assert entries["exploration_url"]["url"] == uploaded["url"]
    assert entries["exploration_signed_url_expires_at"]["text"] == uploaded["expires_at"]


def test_upload_defaults_from_config_and_failures(
    project: Path, s3_endpoint: str, tmp_path: Path
) -> None:
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket="configured")
    (project / "daglab.yaml").write_text(
        "export:\n  compress: false\n"
        "  cloud_storage: {provider: s3, bucket: configured, prefix: daglab-exports/}\n"
    )
    env = aws_env(s3_endpoint, tmp_path)
    result = export(project, env=env)
    assert result.exit_code == 0, result
    assert "uploaded to s3://configured/daglab-exports/orders.html" in result.stdout
    assert SECRET not in result.output
    stored = s3.get_object(Bucket="configured", Key="daglab-exports/orders.html")
    assert stored["Body"].read() == (project / "notebooks" / "orders.html").read_bytes()
    failed = export(project, "--upload", "s3://no-such-bucket/x", env=env)
    assert failed.exit_code == 5, failed
    assert "bucket does not exist" in failed.stderr
    assert SECRET not in failed.output
    assert (project / "notebooks" / "orders.html").is_file()  # the local export stays
    events = _history.read(project, kinds=["export"])
    assert events[0].data["uploaded"] == "s3://configured/daglab-exports/orders.html"
    assert "uploaded" not in events[1].data
    assert "bucket does not exist" in events[1].data["upload_error"]
