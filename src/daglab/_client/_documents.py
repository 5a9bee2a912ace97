"""The GraphQL documents (``graphql/*.graphql``) and what the sandbox needs to know of them.

Some operations have older variants for older Dagster webservers; which one a server takes is
decided in :mod:`daglab._compat.graphql`.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One document: its file, its name in ``security.allowed_operations``, and its kind."""

    file: str
    name: str
    mutation: bool = False

    @property
    def text(self) -> str:
        return _read(self.file)

    def file_for(self, operation: str, server_version: str | None) -> str:
        """The document file a webserver reporting ``server_version`` accepts."""
        from daglab._compat.graphql import document_file

        return document_file(operation, self.file, server_version)

    def text_for(self, operation: str, server_version: str | None) -> str:
        return _read(self.file_for(operation, server_version))


OPERATIONS: dict[str, Operation] = {
    "discover": Operation("discover.graphql", "getRepositories"),
    "run": Operation("run.graphql", "getRunStatus"),
    "runs": Operation("runs.graphql", "getRuns"),
    "run_failure": Operation("run_failure.graphql", "getRunLogs"),
    "run_tag_values": Operation("run_tag_values.graphql", "getRunTags"),
    "stats_runs": Operation("stats_runs.graphql", "getRunStats"),
    "run_config_schema": Operation("run_config_schema.graphql", "getRunConfigSchema"),
    "run_metrics": Operation("run_metrics.graphql", "getRunMetrics"),
    "asset_partitions": Operation("asset_partitions.graphql", "getAssetPartitions"),
    "validate_config": Operation("validate_config.graphql", "validateConfig"),
    "version": Operation("version.graphql", "getVersion"),
    "launch_run": Operation("launch_run.graphql", "launchRun", mutation=True),
    "terminate_run": Operation("terminate_run.graphql", "terminateRun", mutation=True),
    "backfill": Operation("backfill.graphql", "getBackfill"),
    "run_checks": Operation("run_checks.graphql", "getRunLogs"),
    "run_events": Operation("run_events.graphql", "getRunLogs"),
    "job_partition": Operation("job_partition.graphql", "getJobPartition"),
    "launch_backfill": Operation(
        "launch_backfill.graphql", "launchPartitionBackfill", mutation=True
    ),
    "add_dynamic_partition": Operation(
        "add_dynamic_partition.graphql", "addDynamicPartition", mutation=True
    ),
    "delete_dynamic_partitions": Operation(
        "delete_dynamic_partitions.graphql", "deleteDynamicPartitions", mutation=True
    ),
}


#: Calls that are not GraphQL documents: the webserver's REST endpoints daglab uses.
REST_OPERATIONS: dict[str, Operation] = {
    "report_observation": Operation("", "reportAssetObservation", mutation=True),
}


def operation_named(operation: str) -> Operation:
    """The GraphQL or REST operation called ``operation``."""
    return OPERATIONS.get(operation) or REST_OPERATIONS[operation]


@functools.cache
def _read(file: str) -> str:
    from daglab._compat.graphql import DERIVED, derive

    if file in DERIVED:
        base, fields = DERIVED[file]
        return derive(_read(base), fields)
    folder = importlib.resources.files("daglab._client") / "graphql"
    return (folder / file).read_text("utf-8")
