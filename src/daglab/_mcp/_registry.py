"""Which tools the server offers, what each needs allowed, and what each promises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Operations a tool may need; the GraphQL ones are the sandbox's names for Dagster mutations,
#: the local ones follow the same vocabulary so one allow-list covers both.
MUTATIONS = ("launchRun", "terminateRun", "scaffoldNotebook", "exportNotebook")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    #: The operation the tool needs allowed; None for a read-only tool.
    operation: str | None = None
    #: For a tool that changes something: whether calling it twice does no more than once.
    idempotent: bool = False
    #: Whether it can destroy or interrupt something (a run's work).
    destructive: bool = False

    @property
    def read_only(self) -> bool:
        return self.operation is None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "read_only": self.read_only,
            "operation": self.operation,
            "description": self.description,
        }


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "discover",
        "Code locations (with load errors), jobs, assets (partitions, checks), asset checks,"
        " schedules and sensors of the Dagster webserver; filter by kind, name pattern and tags.",
    ),
    ToolSpec(
        "validate_run_config",
        "Check a run config for a job or an asset selection with Dagster's own validation;"
        " launches nothing. Returns valid and the problems, each naming its field.",
    ),
    ToolSpec(
        "default_run_config",
        "The run config of a job with every default filled in, as YAML.",
    ),
    ToolSpec(
        "get_run",
        "One run's status, times, tags and link; for a failed run, the failing step and cause.",
    ),
    ToolSpec("list_runs", "Recent runs, newest first, filtered by status and tags."),
    ToolSpec(
        "wait_for_run",
        "Wait until a run ends or the timeout passes, with a progress notification on each"
        " change of state. Never cancels the run.",
    ),
    ToolSpec(
        "run_logs",
        "One page of a run's event log (level and step filters) and the cursor of the next;"
        " has_more says whether to ask again.",
    ),
    ToolSpec(
        "asset_partitions",
        "An asset's partitions definition and keys (dimensions for multi-partitions).",
    ),
    ToolSpec(
        "config_show",
        "daglab's effective configuration and where each value came from; names the token"
        " variable, never its value.",
    ),
    ToolSpec(
        "stats",
        "Runs daglab launched in Dagster (success rate, durations, launches by origin: cli,"
        " notebook, mcp) and the project's local history of in-process runs and exports.",
    ),
    ToolSpec(
        "doctor",
        "Diagnose the environment (Python, packages, Dagster and marimo, the project, the"
        " webserver and its code locations): each check with its status and remedy.",
    ),
    ToolSpec(
        "launch_run",
        "Validate, then launch a job or an asset selection (optionally one partition) and"
        " optionally wait for it. The run is tagged daglab/launched-by=mcp.",
        operation="launchRun",
    ),
    ToolSpec(
        "terminate_run",
        "Ask Dagster to terminate a run that is queued or running.",
        operation="terminateRun",
        idempotent=True,
        destructive=True,
    ),
    ToolSpec(
        "scaffold_notebook",
        "Write a marimo notebook paired with a job or an asset into the project's notebooks"
        " folder (never outside the project; an existing file only with force).",
        operation="scaffoldNotebook",
    ),
    ToolSpec(
        "export_notebook",
        "Export a notebook to HTML inside the project, and attach it to an asset (or every asset"
        " of a job) in Dagster when asked.",
        operation="exportNotebook",
    ),
)


def tools_for(allowed: Iterable[str]) -> list[ToolSpec]:
    """The tools a server started with ``allowed`` operations lists (and lets be called)."""
    ops = set(allowed)
    return [tool for tool in TOOLS if tool.operation is None or tool.operation in ops]
