"""`daglab stats` without a Dagster server: --since, the report's arithmetic, the HTML report,
the dashboard notebook, the sweep hook, and a webserver that is down."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daglab import _history, _stats
from daglab._errors import ConflictError, ExitCode, UsageError
from daglab._history import Event
from daglab._stats import DagsterPart, HistoryPart, Stats, StatsRun
from daglab._sweeps import Sweep, SweepItem, run_sweep
from tests.conftest import FIXTURES

NOW = 1_800_000_000.0


# -- --since ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 7 * 86400),
        ("24h", 86400),
        ("30m", 1800),
        ("2w", 14 * 86400),
        ("1.5h", 5400),
        ("90min", 5400),
        ("3 D", 3 * 86400),
    ],
)
def test_relative_since_counts_back_from_now(text: str, seconds: float) -> None:
    assert _stats.parse_since(text, now=NOW) == NOW - seconds


def test_iso_since_dates_and_times() -> None:
    local_midnight = datetime(2026, 11, 1).timestamp()  # naive: local time
    assert _stats.parse_since("2026-11-01") == local_midnight
    assert _stats.parse_since("2026-11-01T09:30") == local_midnight + 9.5 * 3600
    utc = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc).timestamp()
    assert _stats.parse_since("2026-11-01T09:30:00Z") == utc
    assert _stats.parse_since("2026-11-01T10:30:00+01:00") == utc
    assert _stats.parse_since(" 2026-11-01 09:30:00.250 ") == local_midnight + 9.5 * 3600 + 0.25


@pytest.mark.parametrize("text", ["yesterday", "", "7y", "2026-13-01", "-3d", "d7", "12"])
def test_bad_since_is_a_usage_error_with_examples(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        _stats.parse_since(text)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "--since 7d" in caught.value.remediation
    assert "2026-11-01" in caught.value.remediation


def test_bad_since_on_the_command_line_exits_2(cli, git_project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("stats", "--since", "last tuesday", "--json", cwd=git_project)
    assert result.exit_code == 2, result
    error = json.loads(result.stdout)
    assert "last tuesday" in error["message"]
    assert "--since 7d" in error["remediation"]
    human = cli("stats", "--since", "soon", cwd=git_project)
    assert human.exit_code == 2
    assert "--since 24h" in human.output


# -- the report ---------------------------------------------------------------------------------


def run(
    run_id: str,
    status: str,
    job: str,
    launcher: str,
    *,
    start: float = NOW,
    seconds: float | None = 10.0,
    tags: dict[str, str] | None = None,
    selection: tuple[str, ...] = (),
    made: tuple[str, ...] = (),
) -> StatsRun:
    return StatsRun(
        run_id,
        status,
        job,
        created=start - 2,
        started=start if seconds is not None else None,
        ended=start + seconds if seconds is not None else None,
        tags={"daglab/launched-by": launcher, **(tags or {})},
        asset_selection=selection,
        materialized=made,
    )


RUNS = [
    run("r1", "SUCCESS", "train", "cli", seconds=10.0),
    run("r2", "SUCCESS", "train", "notebook", seconds=20.0, tags={"daglab/notebook": "a.py"}),
    run("r3", "FAILURE", "train", "cli", seconds=30.0),
    run(
        "r4",
        "SUCCESS",
        "assets_job",
        "sweep",
        seconds=4.0,
        tags={"daglab/sweep": "sw1"},
        made=("orders/raw", "orders/clean"),
    ),
    run(
        "r5",
        "SUCCESS",
        "__ASSET_JOB",
        "notebook",
        seconds=6.0,
        selection=("orders/clean",),
        made=("orders/clean",),
        tags={"daglab/notebook": "a.py"},
    ),
    run("r6", "STARTED", "train", "cli", seconds=None),
]


def inprocess(at: float, target: str, kind: str, success: bool, seconds: float, **more: object):  # type: ignore[no-untyped-def]
    data = {"target": target, "target_kind": kind, "success": success, "duration_s": seconds}
    return Event("inprocess", at, {**data, **more})


EVENTS = [
    inprocess(NOW, "train", "job", True, 2.0, rss_peak_delta=1000, materialized=[]),
    inprocess(NOW + 1, "train", "job", True, 3.0, rss_peak_delta=3000),
    inprocess(NOW + 2, "train", "job", False, 99.0),
    inprocess(
        NOW + 3, "orders/clean", "asset", True, 0.5, materialized=["orders/raw", "orders/clean"]
    ),
    Event("export", NOW + 4, {"notebook": "a.py", "path": "/p/a.html", "bytes": 2048}),
    Event("export", NOW + 5, {"notebook": "b.py", "path": "/p/b.html.gz", "bytes": 1024}),
    Event("attach", NOW + 6, {"asset": "orders/clean", "html": "/p/b.html.gz"}),
    Event("sweep", NOW + 7, {"sweep_id": "sw1", "count": 1, "successes": 1, "duration_s": 9.0}),
    Event("sweep", NOW + 8, {"sweep_id": "sw2", "target": "train", "count": 3, "successes": 2}),
]


def stats(runs: list[StatsRun] = RUNS, *, available: bool = True, since: float | None = None):  # type: ignore[no-untyped-def]
    dagster = DagsterPart("http://localhost:3000", available, runs if available else [])
    if not available:
        dagster.error, dagster.remediation = "cannot reach it", "Start it."
    history = HistoryPart(Path("/p/.daglab/history.jsonl"), True, EVENTS)
    return Stats(since, NOW + 100, Path("/p"), dagster, history)


def test_run_counts_rates_and_durations() -> None:
    report = stats().to_dict()
    runs = report["runs"]
    assert runs["total"] == 6 and runs["finished"] == 5 and runs["in_flight"] == 1
    assert (runs["succeeded"], runs["failed"], runs["canceled"]) == (4, 1, 0)
    assert runs["success_rate"] == 0.8  # finished runs only
    assert list(runs["by_launcher"]) == ["cli", "notebook", "sweep"]  # most runs first
    assert runs["by_launcher"]["cli"] == {
        "runs": 3,
        "finished": 2,
        "succeeded": 1,
        "failed": 1,
        "canceled": 0,
        "in_flight": 1,
        "success_rate": 0.5,
        "mean_duration_s": 20.0,
    }
    assert runs["by_status"] == {"SUCCESS": 4, "FAILURE": 1, "STARTED": 1}
    assert runs["duration"] == {
        "count": 5,
        "mean_s": 14.0,
        "median_s": 10.0,
        "min_s": 4.0,
        "max_s": 30.0,
        "total_s": 70.0,
    }
    assert runs["wall_duration"]["mean_s"] == 16.0  # two seconds queued each
    assert runs["by_notebook"] == {"a.py": 2}
    assert runs["sweeps"] == 1
    assert report["headline"] == (
        "6 runs launched by daglab: 4 succeeded (80% of 5 finished), mean 14.0 s."
    )


def test_most_used_jobs_and_assets_include_inprocess_runs() -> None:
    report = stats().to_dict()
    jobs = {job["name"]: job for job in report["jobs"]}
    assert report["jobs"][0]["name"] == "train"
    assert jobs["train"]["runs"] == 4 and jobs["train"]["inprocess_runs"] == 3
    assert jobs["train"]["success_rate"] == 0.6667 and jobs["train"]["in_flight"] == 1
    assert jobs["__ASSET_JOB"]["runs"] == 1
    assets = {asset["key"]: asset for asset in report["assets"]}
    assert assets["orders/clean"] == {
        "key": "orders/clean",
        "runs": 2,
        "materializations": 2,
        "inprocess_runs": 1,
    }
    assert assets["orders/raw"]["runs"] == 1 and assets["orders/raw"]["inprocess_runs"] == 1
    assert report["assets"][0]["key"] == "orders/clean"


def test_inprocess_against_ui_per_target() -> None:
    report = stats().to_dict()
    assert report["inprocess"]["total"] == 4 and report["inprocess"]["success_rate"] == 0.75
    assert report["inprocess"]["mean_rss_peak_delta_bytes"] == 2000
    rows = {(row["kind"], row["target"]): row for row in report["comparison"]}
    train = rows[("job", "train")]
    # Successful runs only: UI 10 and 20 s; in-process 2 and 3 s (the failed 99 s is left out).
    assert (train["ui_runs"], train["ui_mean_s"], train["ui_wall_mean_s"]) == (2, 15.0, 17.0)
    assert (train["inprocess_runs"], train["inprocess_mean_s"]) == (2, 2.5)
    assert train["ratio"] == 6.0
    clean = rows[("asset", "orders/clean")]  # one asset selected through __ASSET_JOB
    assert (clean["ui_mean_s"], clean["inprocess_mean_s"], clean["ratio"]) == (6.0, 0.5, 12.0)
    assert rows[("job", "assets_job")]["ratio"] is None
    assert [row["ratio"] is not None for row in report["comparison"]] == [True, True, False]


def test_exports_sweeps_and_history() -> None:
    report = stats().to_dict()
    exports = report["exports"]
    assert (exports["total"], exports["total_bytes"], exports["notebooks"]) == (2, 3072, 2)
    assert [e["path"] for e in exports["last"]] == ["/p/b.html.gz", "/p/a.html"]  # newest first
    assert exports["last"][0]["asset"] == "orders/clean"  # from the attach that points at it
    assert exports["last"][0]["size"] == 1024 and exports["last"][1]["asset"] is None
    assert report["attaches"]["assets"] == {"orders/clean": 1}
    sweeps = report["sweeps"]
    assert sweeps["total"] == 2 and sweeps["runs"] == 4
    assert sweeps["last"][0]["sweep_id"] == "sw2"
    assert sweeps["last"][1]["target"] == "assets_job"  # filled in from the run Dagster tagged
    assert report["history"]["by_kind"] == {"inprocess": 4, "export": 2, "sweep": 2, "attach": 1}
    json.dumps(report)  # all of it serialisable


def test_headlines() -> None:
    assert stats([]).headline() == "No runs launched by daglab."
    one = [run("r1", "SUCCESS", "train", "cli", seconds=75.0)]
    assert stats(one).headline() == "1 run launched by daglab: 1 succeeded (100%), mean 1 min 15 s."
    midnight = datetime(2026, 11, 1).timestamp()
    assert stats([], since=midnight).headline() == "No runs launched by daglab since 2026-11-01."
    down = stats(available=False, since=midnight + 3600 * 9.5)
    assert down.headline() == (
        "Dagster unavailable at http://localhost:3000: the local history only"
        " since 2026-11-01 09:30."
    )
    report = down.to_dict()
    assert report["runs"] is None and report["dagster"]["available"] is False
    assert report["dagster"]["remediation"] == "Start it."
    assert report["inprocess"]["total"] == 4  # the history is still there


# -- the HTML report and the dashboard notebook -------------------------------------------------


def test_html_report_is_self_contained_with_svg_charts() -> None:
    sneaky = [*RUNS, run("r7", "SUCCESS", "<script>alert(1)</script>", "cli")]
    page = _stats.render_html(stats(sneaky))
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 5  # launchers, statuses, jobs, assets, in-process vs UI
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Nothing is fetched: no external scripts, stylesheets, images, fonts or imports.
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<link|<iframe""", page)
    assert "6.0×" in page and "12.0×" in page
    assert "orders/clean" in page and "2.0 KiB" in page
    assert '<meta name="generator" content="daglab stats">' in page


def test_report_files_are_not_overwritten_unless_ours(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    page = _stats.render_html(stats())
    target = root / "report.html"
    _stats.write_report(root, target, page)
    _stats.write_report(root, target, page.replace("14.0 s", "15.0 s"))  # ours: replaced
    assert "15.0 s" in target.read_text()
    # a file that merely mentions the generator is still the user's
    mine = root / "mine.html"
    mine.write_text('<meta name="generator" content="daglab stats"><p>my notes</p>')
    with pytest.raises(ConflictError, match="daglab did not write it"):
        _stats.write_report(root, mine, page)
    assert "my notes" in mine.read_text()
    _stats.write_report(root, mine, page, force=True)
    assert mine.read_text() == page
    with pytest.raises(ConflictError, match="is a folder"):
        _stats.write_report(root, root, page, force=True)


def test_reports_outside_the_project_only_where_named_and_never_over_foreign_files(
    cli, git_project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    foreign = elsewhere / "stats.html"
    foreign.write_text("<p>someone else's page</p>")
    down = ["--url", "http://127.0.0.1:9"]
    refused = cli("stats", "--html", str(foreign), *down, cwd=git_project)
    assert refused.exit_code == 8, refused
    assert "--force" in refused.stderr and foreign.read_text() == "<p>someone else's page</p>"
    notebook = elsewhere / "dash.py"
    both = cli("stats", "--notebook", str(notebook), "--html", str(foreign), *down, cwd=git_project)
    assert both.exit_code == 8 and not notebook.exists()  # refused before writing either
    fresh = cli("stats", "--html", str(elsewhere / "new.html"), *down, cwd=git_project)
    assert fresh.exit_code == 0, fresh
    again = cli("stats", "--html", str(elsewhere / "new.html"), *down, cwd=git_project)
    assert again.exit_code == 0, again  # daglab's own file, recorded by absolute path
    missing = cli(
        "stats", "--html", str(tmp_path / "no" / "dir" / "s.html"), *down, cwd=git_project
    )
    assert missing.exit_code == 7 and not (tmp_path / "no").exists(), missing
    forced = cli("stats", "--html", str(foreign), "--force", *down, cwd=git_project)
    assert forced.exit_code == 0 and foreign.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_dashboard_notebook_passes_marimo_check(tmp_path: Path) -> None:
    notebook = tmp_path / "stats_dashboard.py"
    notebook.write_text(_stats.render_notebook(since="7d", url="http://127.0.0.1:1", port=None))
    text = notebook.read_text()
    assert "since" in text and '"7d"' in text and '"http://127.0.0.1:1"' in text
    checked = subprocess.run(
        [sys.executable, "-m", "marimo", "check", "--strict", str(notebook)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    compile(text, str(notebook), "exec")


# -- the sweep hook -------------------------------------------------------------------------------


def test_a_sweep_is_recorded_in_the_history(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_project / ".daglab").mkdir()
    monkeypatch.chdir(git_project)
    sweep = Sweep(git_project / "s.py", [SweepItem(i, f"#{i}", {}) for i in range(3)])
    outcome = {"0": "SUCCESS", "1": "FAILURE", "2": "SUCCESS"}

    def launch(item: SweepItem, tags: dict[str, str]) -> tuple[str, str | None]:
        return str(item.index), None

    def wait(run_id: str) -> tuple[str, float | None, str | None]:
        return outcome[run_id], 1.0, None

    started = time.time()
    run_sweep(sweep, launch, wait, parallel=2, fail_fast=False, target="train")
    [event] = _history.read(git_project, kinds=["sweep"])
    assert event.at >= started
    assert event.data["sweep_id"] == sweep.sweep_id and event.data["target"] == "train"
    assert (event.data["count"], event.data["successes"]) == (3, 2)
    assert event.data["duration_s"] >= 0 and event.data["file"].endswith("s.py")


def test_a_sweep_outside_a_daglab_project_records_nothing(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(git_project)
    sweep = Sweep(git_project / "s.py", [SweepItem(0, "#0", {})])
    results = run_sweep(
        sweep,
        lambda item, tags: ("r", None),
        lambda run_id: ("SUCCESS", 1.0, None),
        parallel=1,
        fail_fast=False,
    )
    assert [r.status for r in results] == ["SUCCESS"]
    assert not (git_project / ".daglab").exists()


# -- the webserver is down ----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webserver_down_still_shows_the_local_history(cli, git_project: Path) -> None:  # type: ignore[no-untyped-def]
    (git_project / ".daglab").mkdir()
    (git_project / "daglab.yaml").write_text("dagster:\n  graphql: {max_retries: 0}\n")
    _history.record(
        "inprocess",
        {"target": "train", "target_kind": "job", "success": True, "duration_s": 1.25},
        start=git_project,
    )
    _history.record("export", {"path": "/x/a.html", "bytes": 10}, start=git_project)
    port = str(closed_port())

    result = cli("stats", "--dagster-port", port, "--json", cwd=git_project)
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert report["dagster"]["available"] is False
    assert report["dagster"]["endpoint"].endswith(f":{port}")
    assert "cannot reach" in report["dagster"]["error"]
    assert "dagster dev" in report["dagster"]["remediation"]
    assert report["runs"] is None
    assert report["inprocess"]["total"] == 1
    assert report["inprocess"]["duration"]["mean_s"] == 1.25
    assert report["exports"]["total"] == 1 and report["written"] == {}

    human = cli("stats", "--dagster-port", port, "--since", "1h", cwd=git_project)
    assert human.exit_code == 0, human
    assert "Dagster unavailable at" in human.stdout
    assert "Dagster part unavailable" in human.stdout and "dagster dev" in human.stdout
    assert "In-process runs: 1, 1 succeeded (100%)" in human.stdout
    assert "Exports: 1" in human.stdout

    later = (datetime.now() + timedelta(hours=1)).isoformat(timespec="seconds")
    empty = json.loads(
        cli("stats", "--dagster-port", port, "--json", "--since", later, cwd=git_project).stdout
    )
    assert empty["inprocess"]["total"] == 0 and empty["exports"]["total"] == 0


def test_without_a_daglab_folder_it_says_where_history_comes_from(cli, git_project: Path) -> None:  # type: ignore[no-untyped-def]
    (git_project / "daglab.yaml").write_text("dagster:\n  graphql: {max_retries: 0}\n")
    result = cli("stats", "--dagster-port", str(closed_port()), cwd=git_project)
    assert result.exit_code == 0, result
    assert "No local history" in result.stdout and "daglab init" in result.stdout
    report = json.loads(
        cli("stats", "--dagster-port", str(closed_port()), "--json", cwd=git_project).stdout
    )
    assert report["history"]["available"] is False and report["history"]["events"] == 0


# -- the in-process hook --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_history_failure_never_breaks_an_inprocess_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daglab._inprocess import run_inprocess

    project = Path(shutil.copytree(FIXTURES / "sample_dagster_project", tmp_path / "sample"))
    (project / ".daglab").mkdir()
    config = {"ops": {"multiply": {"config": {"multiplier": 2}}}}
    assert run_inprocess("configurable_job", project=project, run_config=config).success
    [event] = _history.read(project)
    assert event.kind == "inprocess" and event.data["target"] == "configurable_job"
    assert event.data["target_kind"] == "job" and event.data["success"] is True

    history = _history.history_path(project)
    history.unlink()
    history.mkdir()  # cannot be appended to
    assert run_inprocess("configurable_job", project=project, run_config=config).success

    def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the history broke")

    monkeypatch.setattr(_history, "record", broken)
    result = run_inprocess("daily_summary", project=project)
    assert result.success and result.value == {"order_count": 5, "total_amount": 150}
