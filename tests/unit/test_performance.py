"""PerformanceTracker: timings, run measurements, comparisons, summary maths, threads, memory."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from daglab._errors import ExitCode, ValidationError
from daglab._inprocess import InProcessResult
from daglab._performance import Measurement, PerformanceTracker, track_performance


@pytest.fixture
def tracker() -> PerformanceTracker:
    return PerformanceTracker()


@pytest.fixture
def shared() -> Iterator[PerformanceTracker]:
    tracker = track_performance(reset=True)
    yield tracker
    tracker.reset()


def test_start_end_timing(tracker: PerformanceTracker) -> None:
    tracker.start_timing("load")
    time.sleep(0.02)
    seconds = tracker.end_timing("load")
    assert 0.02 <= seconds < 2
    assert tracker.timings == {"load": (seconds,)}


def test_end_without_start_is_an_error(tracker: PerformanceTracker) -> None:
    tracker.start_timing("transform")
    with pytest.raises(ValidationError) as caught:
        tracker.end_timing("transfrom")
    assert "never started" in caught.value.message
    assert "did you mean 'transform'" in caught.value.message
    assert "start_timing('transfrom')" in caught.value.remediation
    assert caught.value.exit_code == ExitCode.VALIDATION


def test_end_twice_is_an_error(tracker: PerformanceTracker) -> None:
    tracker.start_timing("x")
    tracker.end_timing("x")
    with pytest.raises(ValidationError):
        tracker.end_timing("x")


def test_start_again_restarts(tracker: PerformanceTracker) -> None:
    tracker.start_timing("x")
    time.sleep(0.05)
    tracker.start_timing("x")
    assert tracker.end_timing("x") < 0.05


def test_timing_context_manager_keeps_the_time_even_on_error(tracker: PerformanceTracker) -> None:
    with tracker.timing("ok") as timed:
        time.sleep(0.01)
    assert timed.seconds is not None and timed.seconds >= 0.01
    with pytest.raises(RuntimeError), tracker.timing("boom"):
        raise RuntimeError("inside")
    timings = tracker.timings
    assert timings["ok"] == (timed.seconds,)
    assert len(timings["boom"]) == 1


def test_record_validates(tracker: PerformanceTracker) -> None:
    with pytest.raises(ValidationError, match="kind must be one of ui, inprocess"):
        tracker.record("job", "cloud", 1.0, True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="non-negative"):
        tracker.record("job", "ui", -1.0, True)
    with pytest.raises(ValidationError, match="non-negative"):
        tracker.record("job", "ui", float("nan"), True)
    with pytest.raises(ValidationError, match="rss_bytes"):
        tracker.record("job", "ui", 1.0, True, rss_bytes=-5)
    assert tracker.records == ()


def test_compare_runs_maths_and_lookup(tracker: PerformanceTracker) -> None:
    ui = tracker.record("daily_summary", "ui", 2.0, True, rss_bytes=300, run_id="run-ui")
    local = tracker.record("daily_summary", "inprocess", 0.5, True, rss_bytes=1000, run_id="r-ip")

    by_kind = tracker.compare_runs("inprocess:daily_summary", "ui:daily_summary")
    assert (by_kind.a, by_kind.b) == (local, ui)
    assert by_kind.duration_ratio == pytest.approx(0.25)
    assert by_kind.duration_diff_s == pytest.approx(-1.5)
    assert by_kind.rss_diff_bytes == 700
    assert by_kind.faster == "a"
    assert by_kind.describe() == (
        "inprocess daily_summary: 0.50 s, 4.0x faster than ui daily_summary (2.00 s)"
    )

    by_id = tracker.compare_runs("run-ui", local)
    assert by_id.a == ui and by_id.duration_ratio == pytest.approx(4.0)
    assert by_id.faster == "b" and "slower" in by_id.describe()
    # A bare label is the newest measurement with it.
    assert tracker.compare_runs("daily_summary", "run-ui").a == local
    json.dumps(by_id.to_dict())


def test_compare_runs_edge_cases(tracker: PerformanceTracker) -> None:
    tracker.record("a", "ui", 1.0, True)
    zero = tracker.record("b", "inprocess", 0.0, False)
    comparison = tracker.compare_runs("a", "b")
    assert comparison.duration_ratio is None
    assert comparison.rss_diff_bytes is None
    assert tracker.compare_runs(zero, zero).faster == "same"
    with pytest.raises(ValidationError) as caught:
        tracker.compare_runs("a", "bb")
    assert "did you mean b" in caught.value.message


def test_compare_runs_with_nothing_recorded(tracker: PerformanceTracker) -> None:
    with pytest.raises(ValidationError) as caught:
        tracker.compare_runs("a", "b")
    assert "Nothing is recorded yet" in caught.value.remediation


def test_summary_maths(tracker: PerformanceTracker) -> None:
    tracker.record("j", "ui", 1.0, True, rss_bytes=100)
    tracker.record("j", "ui", 2.0, False)
    tracker.record("j", "ui", 6.0, True, rss_bytes=300)
    tracker.record("j", "ui", 3.0, True)
    with tracker.timing("op"):
        pass
    tracker.start_timing("op")
    tracker.end_timing("op")

    summary = tracker.summary()
    ui = summary["ui"]
    assert ui["count"] == 4
    assert ui["success_rate"] == pytest.approx(0.75)
    assert ui["mean_duration_s"] == pytest.approx(3.0)
    assert ui["median_duration_s"] == pytest.approx(2.5)
    assert ui["mean_rss_bytes"] == pytest.approx(200.0)
    assert summary["inprocess"] == {
        "count": 0,
        "success_rate": None,
        "mean_duration_s": None,
        "median_duration_s": None,
        "mean_rss_bytes": None,
    }
    op = summary["timings"]["op"]
    assert op["count"] == 2
    assert op["total_s"] == pytest.approx(sum(tracker.timings["op"]))
    assert op["mean_s"] == pytest.approx(op["total_s"] / 2)
    json.dumps(tracker.to_dict())


def test_max_records_drops_the_oldest() -> None:
    tracker = PerformanceTracker(max_records=3)
    for index in range(5):
        tracker.record(f"r{index}", "ui", float(index), True)
    assert [m.label for m in tracker.records] == ["r2", "r3", "r4"]
    with pytest.raises(ValidationError):
        PerformanceTracker(max_records=0)


def test_record_inprocess() -> None:
    tracker = PerformanceTracker()
    result = InProcessResult(
        target="orders/cleaned_orders",
        kind="asset",
        success=True,
        run_id="abc",
        duration_s=0.25,
        load_duration_s=0.1,
        rss_before_bytes=1000,
        rss_after_bytes=1100,
        rss_peak_delta=400,
        module="definitions.py",
    )
    measurement = tracker.record_inprocess(result)
    assert measurement == Measurement(
        label="orders/cleaned_orders",
        kind="inprocess",
        duration_s=0.25,
        success=True,
        rss_bytes=1400,
        run_id="abc",
        recorded_at=measurement.recorded_at,
    )
    assert tracker.record_inprocess(result, label="mine").label == "mine"
    assert result.recorded_in_dagster is False


def test_thread_safety(tracker: PerformanceTracker) -> None:
    threads, per_thread = 8, 300
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(worker: int) -> None:
        try:
            start.wait()
            for index in range(per_thread):
                tracker.record(f"w{worker}", "ui" if index % 2 else "inprocess", 0.001, True)
                with tracker.timing(f"op{worker % 2}"):
                    pass
                tracker.start_timing(f"own{worker}")
                tracker.end_timing(f"own{worker}")
                if index % 50 == 0:
                    tracker.summary()
                    tracker.compare_runs(f"w{worker}", f"w{worker}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not errors
    summary = tracker.summary()
    assert summary["ui"]["count"] + summary["inprocess"]["count"] == threads * per_thread
    assert summary["timings"]["op0"]["count"] + summary["timings"]["op1"]["count"] == (
        threads * per_thread
    )
    assert all(summary["timings"][f"own{n}"]["count"] == per_thread for n in range(threads))


def test_memory_usage_is_positive_and_counts_children() -> None:
    alone = PerformanceTracker.get_memory_usage()
    assert alone.rss > 0 and alone.vms >= alone.rss
    assert 0 < alone.percent < 100
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with_child = PerformanceTracker.get_memory_usage()
    finally:
        child.kill()
        child.wait(timeout=10)
    assert with_child.processes >= 2
    assert with_child.rss > 0
    json.dumps(with_child.to_dict())


def test_track_performance_is_shared(shared: PerformanceTracker) -> None:
    assert track_performance() is shared
    shared.record("x", "ui", 1.0, True)
    assert len(track_performance().records) == 1
    assert track_performance(reset=True) is shared
    assert shared.records == ()
