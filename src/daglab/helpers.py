"""The functions paired notebooks import: a small, stable facade over daglab's library.

.. code-block:: python

    from daglab.helpers import (
        run_job, discover, attach_metadata, run_inprocess,
        validate_config, track_performance, manage_state,
    )

    conn = connect()                        # daglab.yaml / DAGLAB_* settings, health-checked
    outcome = run_job("my_job", config="ops: {...}", conn=conn)
    outcome.run.url, outcome.run.status

Nothing here imports Dagster: only ``run_inprocess`` does, when it runs. Names load on first
use, so ``import daglab.helpers`` costs next to nothing.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from daglab._client import DagsterClient
    from daglab._client._async import AsyncDagsterClient
    from daglab._export import attach_metadata, export_html
    from daglab._inprocess import InProcessResult, run_inprocess
    from daglab._notebooks import views
    from daglab._performance import PerformanceTracker, track_performance
    from daglab._session import (
        ConfigCheck,
        Connection,
        connect,
        discover,
        parse_config,
        queue_position,
        run_job,
        validate_config,
    )
    from daglab._state import NotebookState, manage_state
    from daglab._validation import sanitize_input, validate_yaml_config

_LAZY = {
    "AsyncDagsterClient": "daglab._client._async",
    "ConfigCheck": "daglab._session",
    "Connection": "daglab._session",
    "DagsterClient": "daglab._client",
    "InProcessResult": "daglab._inprocess",
    "NotebookState": "daglab._state",
    "PerformanceTracker": "daglab._performance",
    "attach_metadata": "daglab._export",
    "connect": "daglab._session",
    "discover": "daglab._session",
    "export_html": "daglab._export",
    "manage_state": "daglab._state",
    "parse_config": "daglab._session",
    "queue_position": "daglab._session",
    "run_inprocess": "daglab._inprocess",
    "run_job": "daglab._session",
    "sanitize_input": "daglab._validation",
    "track_performance": "daglab._performance",
    "validate_config": "daglab._session",
    "validate_yaml_config": "daglab._validation",
    "views": "daglab._notebooks",
}

__all__ = [
    "AsyncDagsterClient",
    "ConfigCheck",
    "Connection",
    "DagsterClient",
    "InProcessResult",
    "NotebookState",
    "PerformanceTracker",
    "attach_metadata",
    "connect",
    "discover",
    "export_html",
    "manage_state",
    "parse_config",
    "queue_position",
    "run_inprocess",
    "run_job",
    "sanitize_input",
    "track_performance",
    "validate_config",
    "validate_yaml_config",
    "views",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'daglab.helpers' has no attribute {name!r}")
    if name == "views":
        value: Any = importlib.import_module("daglab._notebooks.views")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
