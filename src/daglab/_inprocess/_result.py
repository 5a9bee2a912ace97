"""What an in-process run did: :class:`InProcessResult` and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from daglab._checks import CheckResult

Kind = Literal["asset", "job", "auto"]

#: How many characters of an output's ``repr`` a result keeps.
REPR_LIMIT = 200


@dataclass(frozen=True)
class InProcessResult:
    """What an in-process run did; ``to_dict()`` is its JSON form (without the raw values).

    ``rss_*`` are bytes of this process's resident memory (``None`` without psutil);
    ``rss_peak_delta`` is the highest RSS sampled during the run minus ``rss_before_bytes``
    (sampled every 10 ms: best effort). ``outputs`` holds a ``repr`` of each loaded value cut to
    200 characters; ``values`` the values themselves (an asset run loads the target only).
    """

    target: str
    kind: Literal["asset", "job"]
    success: bool
    run_id: str
    duration_s: float
    load_duration_s: float
    rss_before_bytes: int | None
    rss_after_bytes: int | None
    rss_peak_delta: int | None
    module: str
    steps: tuple[tuple[str, str], ...] = ()
    materialized: tuple[str, ...] = ()
    selection: tuple[str, ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    failed_step: str | None = None
    partition_key: str | None = None
    #: Asset checks the run evaluated; a failed ERROR check makes the run unsuccessful.
    checks: tuple[CheckResult, ...] = ()
    #: The location the target came from (its workspace.yaml name, when it has one).
    location: str | None = None
    values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: In-process runs live on a throw-away instance: the Dagster UI never sees them.
    recorded_in_dagster: bool = field(default=False, init=False)

    @property
    def value(self) -> Any:
        """The target asset's value (``None`` for jobs, or when it was not loaded)."""
        return self.values.get(self.target) if self.kind == "asset" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "success": self.success,
            "run_id": self.run_id,
            "duration_s": self.duration_s,
            "load_duration_s": self.load_duration_s,
            "rss_before_bytes": self.rss_before_bytes,
            "rss_after_bytes": self.rss_after_bytes,
            "rss_peak_delta": self.rss_peak_delta,
            "module": self.module,
            "steps": [{"step_key": key, "status": status} for key, status in self.steps],
            "materialized": list(self.materialized),
            "selection": list(self.selection),
            "outputs": dict(self.outputs),
            "error": self.error,
            "failed_step": self.failed_step,
            "partition_key": self.partition_key,
            "checks": [check.to_dict() for check in self.checks],
            "location": self.location,
            "recorded_in_dagster": self.recorded_in_dagster,
        }
