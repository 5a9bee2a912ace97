"""A password or token in the Dagster URL is never shown or stored, by any command.

Each test runs the real ``daglab`` entry point with ``http://user:s3cr3t@127.0.0.1:PORT`` (plus a
query-string token) and searches everything it wrote: stdout (text and ``--json``), stderr,
``.daglab/daglab.log``, ``.daglab/history.jsonl``, generated files, and what Dagster recorded.
Every test also checks that the masked URL *was* printed, so a pass is not a command that
simply printed nothing.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import Result, run_daglab
from tests.dagster_server import DagsterServer, graphql

PASSWORD = "s3cr3t"
TOKEN = "tkn9Zq"
SECRETS = (PASSWORD, TOKEN)
MASKED = "user:***@127.0.0.1"
MULTIPLY = "{ops: {multiply: {config: {multiplier: 2}}}}"
RUN_TAGS = """query($id: ID!) { runOrError(runId: $id) {
  ... on Run { runId status tags { key value } } } }"""


def secret_url(port: int, token: bool = True) -> str:
    query = f"?access_token={TOKEN}" if token else ""
    return f"http://user:{PASSWORD}@127.0.0.1:{port}{query}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def project(git_project: Path) -> Path:
    """A project that keeps a DEBUG log and a history, so both can be searched."""
    (git_project / ".daglab").mkdir()
    (git_project / "daglab.yaml").write_text("logging:\n  level: DEBUG\n")
    return git_project


def written_files(root: Path) -> dict[str, str]:
    """Every text file daglab wrote under the project's .daglab/ (log, history, caches)."""
    found = {}
    for path in (root / ".daglab").rglob("*"):
        if path.is_file():
            found[str(path.relative_to(root))] = path.read_text(encoding="utf-8", errors="replace")
    return found


def assert_nothing_leaked(result: Result, root: Path, *extra: str) -> None:
    texts = {"stdout": result.stdout, "stderr": result.stderr, **written_files(root)}
    texts.update({f"extra[{i}]": text for i, text in enumerate(extra)})
    for where, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in {where}:\n{text}"


def daglab(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_daglab(*args, cwd=root, env=env, timeout=300)


# -- without a server ---------------------------------------------------------------------------


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_config_show(project: Path, json_flag: tuple[str, ...]) -> None:
    env = {"DAGLAB_DAGSTER__URL": secret_url(closed_port())}
    result = daglab(project, "config", "show", *json_flag, env=env)
    assert result.exit_code == 0, result
    assert MASKED in result.stdout
    if json_flag:
        data = json.loads(result.stdout)
        assert data["values"]["dagster.url"].startswith(f"http://{MASKED}")
        assert data["graphql_url"].endswith("/graphql?access_token=***")
    assert_nothing_leaked(result, project)


def test_config_show_from_daglab_yaml(project: Path) -> None:
    (project / "daglab.yaml").write_text(
        f"logging:\n  level: DEBUG\ndagster:\n  url: {secret_url(closed_port())}\n"
    )
    result = daglab(project, "config", "show", "--json")
    assert result.exit_code == 0, result
    assert MASKED in result.stdout
    assert_nothing_leaked(result, project)


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_doctor(project: Path, json_flag: tuple[str, ...]) -> None:
    env = {"DAGLAB_DAGSTER__URL": secret_url(closed_port())}
    result = daglab(project, "doctor", *json_flag, "--log-level", "DEBUG", env=env)
    assert MASKED in result.stdout, result
    assert_nothing_leaked(result, project)


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_discover_against_a_closed_port_with_retries(
    project: Path, json_flag: tuple[str, ...]
) -> None:
    env = {"DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "2"}
    url = secret_url(closed_port())
    result = daglab(project, "discover", "--url", url, *json_flag, "--log-level", "DEBUG", env=env)
    assert result.exit_code == 5, result
    retries = [
        line for line in result.stderr.splitlines() if line.startswith("daglab: INFO: retry")
    ]
    assert len(retries) == 2, result.stderr
    assert all(MASKED in line for line in retries), retries
    if json_flag:
        assert MASKED in json.loads(result.stdout)["message"]
    else:
        assert MASKED in result.stderr
    log = (project / ".daglab" / "daglab.log").read_text()
    assert "retry" in log and MASKED in log
    assert_nothing_leaked(result, project)


def test_stats_without_a_server(project: Path, tmp_path: Path) -> None:
    notebook = tmp_path / "dash.py"
    url = secret_url(closed_port())
    env = {"DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0"}
    result = daglab(project, "stats", "--url", url, "--json", "--notebook", str(notebook), env=env)
    assert result.exit_code == 0, result
    assert MASKED in result.stdout
    assert_nothing_leaked(result, project, notebook.read_text())


# -- against the real `dagster dev` -------------------------------------------------------------


def run_tags(server: DagsterServer, run_id: str) -> dict[str, str]:
    node = graphql(server, RUN_TAGS, {"id": run_id})["data"]["runOrError"]
    return {tag["key"]: tag["value"] for tag in node["tags"]}


@pytest.mark.dagster
def test_run_launched_line_log_history_and_dagster_tags(
    project: Path, dagster_server: DagsterServer
) -> None:
    url = secret_url(dagster_server.port)
    args = ("run", "--job", "configurable_job", "--config-yaml", MULTIPLY, "--url", url)
    result = daglab(project, *args, "--log-level", "DEBUG")
    assert result.exit_code == 0, result
    (launched,) = [line for line in result.output.splitlines() if line.startswith("Launched")]
    assert f"http://{MASKED}:{dagster_server.port}/runs/" in launched
    run_id = launched.split("/runs/")[1].split("?")[0].strip()
    tags = run_tags(dagster_server, run_id)
    assert tags["daglab/launched-by"] == "cli"
    assert_nothing_leaked(result, project, json.dumps(tags))

    as_json = daglab(project, *args, "--json")
    assert as_json.exit_code == 0, as_json
    outcome = json.loads(as_json.stdout)
    assert outcome["status"] == "SUCCESS" and MASKED in outcome["url"]
    tags = run_tags(dagster_server, outcome["run_id"])
    assert_nothing_leaked(as_json, project, json.dumps(tags))


@pytest.mark.dagster
def test_a_sweep_prints_and_records_no_credentials(
    project: Path, dagster_server: DagsterServer
) -> None:
    sweep = project / "configs.py"
    sweep.write_text(
        "def config_gen():\n"
        "    for m in (2, 3):\n"
        '        yield f"m={m}", {"ops": {"multiply": {"config": {"multiplier": m}}}}\n'
    )
    url = secret_url(dagster_server.port)
    result = daglab(
        project, "run", "--job", "configurable_job", "--sweep", "configs.py", "--url", url
    )
    assert result.exit_code == 0, result
    assert result.output.count(MASKED) >= 2, result
    history = (project / ".daglab" / "history.jsonl").read_text()
    assert '"sweep"' in history
    run_ids = [
        line.split("/runs/")[1].split("?")[0].strip()
        for line in result.output.splitlines()
        if "/runs/" in line
    ]
    assert len(run_ids) == 2, result.stdout
    tags = [run_tags(dagster_server, run_id) for run_id in run_ids]
    assert_nothing_leaked(result, project, json.dumps(tags))


@pytest.mark.dagster
def test_stats_json_against_the_server(project: Path, dagster_server: DagsterServer) -> None:
    result = daglab(project, "stats", "--url", secret_url(dagster_server.port), "--json")
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert MASKED in json.dumps(data)
    assert_nothing_leaked(result, project)


NOTEBOOK = """import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from daglab.helpers import connect

    conn = connect()
    mo.md(f"endpoint `{conn.url}` ok={conn.ok} version={conn.version}")
    return


if __name__ == "__main__":
    app.run()
"""
OBSERVATION = """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) {
  ... on Asset { assetObservations(limit: 1) { metadataEntries { label
    ... on TextMetadataEntry { text } ... on PathMetadataEntry { path }
    ... on UrlMetadataEntry { url } } } } } }"""


@pytest.mark.dagster
def test_export_html_and_the_attached_metadata(
    project: Path, dagster_server: DagsterServer
) -> None:
    (project / "notebooks").mkdir()
    (project / "notebooks" / "orders.py").write_text(NOTEBOOK)
    env = {"DAGLAB_DAGSTER__URL": secret_url(dagster_server.port)}
    result = daglab(
        project,
        "export",
        "notebooks/orders.py",
        "--no-compress",
        "--attach",
        "asset://orders/raw_orders",
        "--json",
        env=env,
    )
    assert result.exit_code == 0, result
    html = (project / "notebooks" / "orders.html").read_text()
    assert MASKED in html and "ok=True" in html  # the notebook connected and showed the URL
    answer = graphql(dagster_server, OBSERVATION, {"path": ["orders", "raw_orders"]})
    metadata = json.dumps(answer["data"])
    assert "exploration" in metadata
    assert_nothing_leaked(result, project, html, metadata)


@pytest.mark.dagster
def test_scaffold_checks_against_the_server_and_writes_no_credentials(
    tmp_path: Path, dagster_server: DagsterServer
) -> None:
    import shutil
    import subprocess

    from tests.conftest import FIXTURES

    root = tmp_path / "live"
    shutil.copytree(FIXTURES / "sample_dagster_project", root)
    (root / "daglab.yaml").write_text(f"dagster:\n  url: {secret_url(dagster_server.port)}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".daglab").mkdir(exist_ok=True)
    result = daglab(root, "scaffold", "--asset", "daily_summary", "--log-level", "DEBUG")
    assert result.exit_code == 0, result
    as_json = daglab(root, "scaffold", "--asset", "daily_summary", "--force", "--json")
    assert as_json.exit_code == 0, as_json
    data = json.loads(as_json.stdout)
    assert data["checked_against"] == "server"  # the credentialed URL was used
    notebook = Path(data["path"]).read_text()
    assert_nothing_leaked(result, root, notebook, as_json.stdout, as_json.stderr)
