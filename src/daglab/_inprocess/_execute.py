"""Running a resolved target on an ephemeral instance and summarising what happened."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from daglab._checks import CheckResult, blocking_failures, describe_failures
from daglab._errors import ValidationError
from daglab._inprocess._result import REPR_LIMIT, InProcessResult
from daglab._inprocess._target import (
    add_dynamic_partition,
    check_child_partition,
    check_dynamic_partitions,
    check_partition,
    run_partitions,
    selection_for,
)

_STEP_STATUS = {
    "STEP_START": "started",
    "STEP_SUCCESS": "success",
    "STEP_FAILURE": "failure",
    "STEP_SKIPPED": "skipped",
    "STEP_UP_FOR_RETRY": "retrying",
    "STEP_RESTARTED": "restarted",
}


class _PeakRss:
    """RSS of this process before, after and at its sampled peak during a block."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.before: int | None = None
        self.after: int | None = None
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: Any = None

    def _rss(self) -> int | None:
        if self._process is None:
            return None
        try:
            return int(self._process.memory_info().rss)
        except Exception:  # the sample is best effort
            return None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            value = self._rss()
            if value is not None and (self.peak is None or value > self.peak):
                self.peak = value

    def __enter__(self) -> _PeakRss:
        try:
            import psutil

            self._process = psutil.Process()
        except Exception:  # no psutil, or a platform it does not support: no memory numbers
            self._process = None
        self.before = self.peak = self._rss()
        if self._process is not None:
            self._thread = threading.Thread(target=self._sample, name="daglab-rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.after = self._rss()
        if self.after is not None and (self.peak is None or self.after > self.peak):
            self.peak = self.after

    @property
    def peak_delta(self) -> int | None:
        if self.peak is None or self.before is None:
            return None
        return max(0, self.peak - self.before)


def _summarise(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the result
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()


def _failure(result: Any) -> tuple[str | None, str | None]:
    """``(error message, failing step)`` from the run's failure events."""
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        error = data.error if data is not None else None
        if error is None:
            return f"step {event.step_key} failed", event.step_key
        # Dagster wraps user code errors; the user's exception is the cause.
        shown = error.cause if error.cause is not None and "Dagster" in error.cls_name else error
        return _first_line(shown.message), event.step_key
    for event in result.all_events:
        if event.event_type_value == "PIPELINE_FAILURE":
            data = event.event_specific_data
            error = getattr(data, "error", None)
            return _first_line(error.message if error is not None else event.message or ""), None
    return "the run failed", None


def execute(
    repository: Any,
    kind: str,
    name: str,
    key: Any,
    *,
    module_label: str,
    location: str | None,
    instance_dir: Path,
    run_config: Mapping[str, Any] | None,
    partition_key: str | None,
    tags: Mapping[str, str] | None,
    upstream: bool,
    load_values: bool,
    load_duration: float,
    log_level: str,
    dynamic_partitions: Mapping[str, Sequence[str]] | None = None,
) -> InProcessResult:
    """Run ``kind`` ``name`` of ``repository`` on an ephemeral instance in ``instance_dir``;
    ``dynamic_partitions`` (``{definition name: keys}``) are added to it first."""
    from dagster import DagsterInstance

    dynamic = check_dynamic_partitions(repository, dynamic_partitions)
    selection: list[Any] | None = None
    children: dict[str, list[str]] = {}  # op name of an unpartitioned asset -> partitioned parents
    if kind == "asset":
        chosen, checks = selection_for(repository, key, upstream=upstream)
        partitions_def, owners = run_partitions(repository, key, chosen, partition_key)
        if repository.asset_graph.get(key).partitions_def is not None or not owners:
            check_partition(f"asset {name}", partitions_def, partition_key)
        else:
            check_child_partition(name, owners, partitions_def, partition_key)
        children = _unpartitioned_children(repository, chosen)
        selection = sorted(chosen, key=lambda k: k.to_user_string())
        job_def = repository.get_implicit_global_asset_job_def().get_subset(
            asset_selection=chosen, asset_check_selection=checks
        )
    else:
        job_def = repository.get_job(name)
        partitions_def = job_def.partitions_def
        check_partition(f"job {name}", partitions_def, partition_key)
    config = dict(run_config) if run_config is not None else {}
    if run_config is None and partition_key is not None:
        config = _partition_config(job_def, partition_key)
    # Dagster's console logger prints every DEBUG event by default: keep it to log_level.
    config.setdefault("loggers", {"console": {"config": {"log_level": log_level.upper()}}})

    with DagsterInstance.ephemeral(tempdir=str(instance_dir)) as instance:
        for dynamic_name, dynamic_keys in dynamic.items():
            instance.add_dynamic_partitions(dynamic_name, dynamic_keys)
        if partition_key is not None and partitions_def is not None:
            add_dynamic_partition(instance, partitions_def, partition_key)
        with _PeakRss() as memory:
            started = time.perf_counter()
            try:
                result = job_def.execute_in_process(
                    run_config=config,
                    instance=instance,
                    partition_key=partition_key,
                    tags=dict(tags) if tags else None,
                    raise_on_error=False,
                )
            except Exception as exc:  # raised before any step ran: config, partition, selection
                raise ValidationError(
                    f"Dagster refused to run {kind} {name}: {exc}",
                    remediation=(
                        "Fix run_config / partition_key (the message says what is missing)."
                    ),
                    exception=type(exc).__name__,
                ) from exc
            duration = time.perf_counter() - started

        steps: dict[str, str] = {}
        materialized: dict[str, Any] = {}  # user string -> AssetKey, in materialization order
        asset_steps: set[str] = set()
        op_outputs: list[tuple[str, str]] = []
        checks_run: list[CheckResult] = []
        for event in result.all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                checks_run.append(_check_result(event.event_specific_data))
            step = event.step_key
            status = _STEP_STATUS.get(event.event_type_value)
            if step and status:
                steps[step] = status
            if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key is not None:
                materialized.setdefault(event.asset_key.to_user_string(), event.asset_key)
                if step:
                    asset_steps.add(step)
            if event.event_type_value == "STEP_OUTPUT" and step:
                handle = event.step_output_data.step_output_handle
                op_outputs.append((step.split("[")[0], handle.output_name))

        values: dict[str, Any] = {}
        outputs: dict[str, str] = {}
        if load_values:
            loaders: list[tuple[str, Callable[[], Any]]] = [
                (asset, partial(result.asset_value, asset_key))
                for asset, asset_key in materialized.items()
                if kind == "job" or asset == name
            ]
            if kind == "job":
                loaders += [
                    (
                        node if output == "result" else f"{node}.{output}",
                        partial(result.output_for_node, node, output),
                    )
                    for node, output in dict.fromkeys(op_outputs)
                    if node not in asset_steps
                ]
            for label, load in loaders:
                _load_value(values, outputs, label, load)

        error = failed_step = None
        failed_checks = blocking_failures(checks_run)
        if not result.success:
            message, failed_step = _failure(result)
            error = (
                f"{failed_step}: {message}" if failed_step else message or ""
            ) + _reads_every_partition(result, children, failed_step, partition_key)
        elif failed_checks:
            error = f"asset checks failed: {describe_failures(checks_run)}"

    return InProcessResult(
        target=name,
        kind="asset" if kind == "asset" else "job",
        success=bool(result.success) and not failed_checks,
        run_id=str(result.run_id),
        duration_s=duration,
        load_duration_s=load_duration,
        rss_before_bytes=memory.before,
        rss_after_bytes=memory.after,
        rss_peak_delta=memory.peak_delta,
        module=module_label,
        steps=tuple(steps.items()),
        materialized=tuple(materialized),
        selection=tuple(k.to_user_string() for k in selection or ()),
        outputs=outputs,
        error=error,
        failed_step=failed_step,
        partition_key=partition_key,
        checks=tuple(checks_run),
        location=location,
        values=values,
    )


def _load_value(
    values: dict[str, Any], outputs: dict[str, str], label: str, get: Callable[[], Any]
) -> None:
    """Load one value for the summary; a value that cannot be loaded is noted, not raised."""
    try:
        value = get()
    except Exception as exc:
        outputs[label] = _summarise_error(exc)
        return
    values[label] = value
    outputs[label] = _summarise(value)


def _summarise_error(exc: Exception) -> str:
    return f"<not loaded: {type(exc).__name__}: {_first_line(str(exc))}>"[:REPR_LIMIT]


def _check_result(evaluation: Any) -> CheckResult:
    severity = getattr(evaluation, "severity", None)
    partition = getattr(evaluation, "partition", None)
    return CheckResult(
        asset=evaluation.asset_key.to_user_string(),
        name=str(evaluation.check_name),
        passed=bool(evaluation.passed),
        severity=str(getattr(severity, "value", severity) or "ERROR"),
        description=getattr(evaluation, "description", None),
        partition=str(partition) if partition is not None else None,
    )


def _partition_config(job_def: Any, partition_key: str) -> dict[str, Any]:
    """The run config a partitioned job derives from its partition (``@daily_partitioned_config``
    and friends): Dagster uses it only when the run brings no config of its own."""
    partitioned = getattr(job_def, "partitioned_config", None)
    if partitioned is None:
        return {}
    try:
        return dict(partitioned.get_run_config_for_partition_key(partition_key) or {})
    except Exception as exc:
        raise ValidationError(
            f"the config of {job_def.name} for partition {partition_key!r} does not build: {exc}",
            remediation="Fix the job's partitioned config, or pass run_config.",
        ) from exc


def _unpartitioned_children(repository: Any, chosen: set[Any]) -> dict[str, list[str]]:
    """``{op name: partitioned parents}`` of the unpartitioned assets a run selects."""
    graph = repository.asset_graph
    found: dict[str, list[str]] = {}
    for asset_key in chosen:
        node = graph.get(asset_key)
        if node.partitions_def is not None:
            continue
        parents = sorted(
            parent.to_user_string()
            for parent in node.parent_keys
            if graph.has(parent) and graph.get(parent).partitions_def is not None
        )
        if parents:
            found[node.assets_def.node_def.name] = parents
    return found


def _reads_every_partition(
    result: Any, children: Mapping[str, list[str]], failed_step: str | None, partition_key: Any
) -> str:
    """Why an unpartitioned asset could not load its partitioned parents, when that failed."""
    if not failed_step or failed_step.split("[")[0] not in children:
        return ""
    load_failed = any(
        event.step_key == failed_step
        and event.step_failure_data is not None
        and event.step_failure_data.error is not None
        and "LoadInputError" in event.step_failure_data.error.cls_name
        for event in result.get_step_failure_events()
    )
    if not load_failed:
        return ""
    parents = ", ".join(children[failed_step.split("[")[0]])
    stored = f" only partition {partition_key} of it" if partition_key is not None else " none"
    return (
        f" (as in Dagster, an unpartitioned asset loads the partitions of {parents} its partition"
        " mapping names - every one by default - through the IO manager, and this run stored"
        f"{stored}: pass io_managers='project' to read what the project's storage holds, or"
        " give the input a partition mapping that reads fewer, such as LastPartitionMapping)"
    )
