"""What a run's events say about its steps, and when a partition range can be one run."""

from __future__ import annotations

from daglab._events import RunEvent, RunLog
from daglab._partitions import AssetPartitions
from daglab._partitions._single_run import range_tags, single_run_refusal


def event(kind: str, type_: str | None, at: float, step: str | None = None, **more) -> RunEvent:  # type: ignore[no-untyped-def]
    return RunEvent.from_graphql(
        {"__typename": kind, "eventType": type_, "timestamp": str(int(at * 1000)),
         "stepKey": step, "message": more.pop("message", ""), **more}
    )  # fmt: skip


def test_steps_follow_start_retry_and_end_events() -> None:
    log = RunLog("r")
    first = log.feed(
        [
            event("RunStartEvent", "RUN_START", 100.0),
            event("ExecutionStepStartEvent", "STEP_START", 100.5, "a"),
            event("LogMessageEvent", None, 100.6, "a", message="hello"),
        ]
    )
    assert [(s.key, s.status, s.started) for s in first] == [("a", "running", 100.5)]
    error = {"message": "boom\n", "className": "ValueError", "cause": None}
    second = log.feed(
        [
            event("ExecutionStepUpForRetryEvent", "STEP_UP_FOR_RETRY", 101.0, "a", error=error),
            event("ExecutionStepRestartEvent", "STEP_RESTARTED", 102.0, "a"),
            event("ExecutionStepStartEvent", "STEP_START", 102.0, "b"),
            event("ExecutionStepFailureEvent", "STEP_FAILURE", 103.25, "a", error=error),
            event("ExecutionStepSuccessEvent", "STEP_SUCCESS", 102.5, "b"),
        ]
    )
    # every change in order, a step that started and ended in one page included
    assert [(s.key, s.status) for s in second] == [
        ("a", "retrying"),
        ("a", "running"),
        ("b", "running"),
        ("a", "failed"),
        ("b", "succeeded"),
    ]
    a = log.steps["a"]
    assert a.attempts == 2 and a.started == 100.5 and a.duration == 2.75
    assert a.to_dict()["error"] == "step a: boom"
    assert [f.step for f in log.failures()] == ["a"]
    assert log.steps["b"].duration == 0.5 and log.steps["b"].error is None


def test_a_run_that_failed_outside_its_steps_names_the_run_error() -> None:
    log = RunLog("r")
    log.feed([event("RunFailureEvent", "RUN_FAILURE", 1.0, message="Execution of run failed.")])
    assert [(f.step, f.message) for f in log.failures()] == [(None, "Execution of run failed.")]


def test_check_evaluations_become_check_results() -> None:
    log = RunLog("r")
    evaluation = {
        "checkName": "enough",
        "assetKey": {"path": ["shop", "orders"]},
        "severity": "WARN",
        "description": None,
        "success": False,
    }
    log.feed(
        [event("AssetCheckEvaluationEvent", "ASSET_CHECK_EVALUATION", 1, evaluation=evaluation)]
    )
    [check] = log.checks()
    assert (check.asset, check.name, check.passed, check.severity) == (
        "shop/orders",
        "enough",
        False,
        "WARN",
    )


def partitions(
    asset: str, policy: str | None, kind: str = "TIME_WINDOW", most: int | None = None
) -> AssetPartitions:
    return AssetPartitions(
        asset, kind, "", ("k1", "k2"), "loc", "repo", backfill_policy=policy,
        max_partitions_per_run=most,
    )  # fmt: skip


def test_a_range_is_one_run_only_where_every_asset_allows_it() -> None:
    single = partitions("a", "SINGLE_RUN")
    assert single_run_refusal([single], 30) is None
    assert single_run_refusal([single, partitions("b", None)], 30) == (
        "b has no single-run backfill policy"
    )
    assert single_run_refusal([partitions("c", "MULTI_RUN")], 2) == (
        "c has no single-run backfill policy"
    )
    assert single_run_refusal([partitions("d", "SINGLE_RUN", most=10)], 11) == (
        "d runs at most 10 partitions per run"
    )
    assert single_run_refusal([partitions("d", "SINGLE_RUN", most=10)], 10) is None
    multi = partitions("e", "SINGLE_RUN", kind="MULTIPARTITIONED")
    assert single_run_refusal([multi], 2) == "e is multi-partitioned"
    assert range_tags(["2024-01-01", "2024-01-02", "2024-01-03"]) == {
        "dagster/asset_partition_range_start": "2024-01-01",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
