"""daglab: scaffold, run and round-trip marimo notebooks paired with Dagster assets and jobs.

The public surface is the names in ``__all__``; they load on first use so that ``import daglab``
stays cheap.
"""

from __future__ import annotations

import importlib

from daglab._version import __version__

TYPE_CHECKING = False  # importing typing would cost more than this module
if TYPE_CHECKING:
    from typing import Any

    from daglab._client import DagsterClient
    from daglab._client._async import AsyncDagsterClient
    from daglab._config import LoadedConfig, load_config
    from daglab._config_models import DaglabConfig
    from daglab._errors import (
        AuthenticationError,
        ConfigError,
        ConflictError,
        ConnectivityError,
        DaglabError,
        EnvironmentMissingError,
        ExitCode,
        RunFailedError,
        UsageError,
        ValidationError,
    )
    from daglab._project import Project, find_project

_LAZY = {
    "AsyncDagsterClient": "daglab._client._async",
    "AuthenticationError": "daglab._errors",
    "ConfigError": "daglab._errors",
    "ConflictError": "daglab._errors",
    "ConnectivityError": "daglab._errors",
    "DaglabConfig": "daglab._config_models",
    "DaglabError": "daglab._errors",
    "DagsterClient": "daglab._client",
    "EnvironmentMissingError": "daglab._errors",
    "ExitCode": "daglab._errors",
    "LoadedConfig": "daglab._config",
    "Project": "daglab._project",
    "RunFailedError": "daglab._errors",
    "UsageError": "daglab._errors",
    "ValidationError": "daglab._errors",
    "find_project": "daglab._project",
    "load_config": "daglab._config",
}

__all__ = [
    "AsyncDagsterClient",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "ConnectivityError",
    "DaglabConfig",
    "DaglabError",
    "DagsterClient",
    "EnvironmentMissingError",
    "ExitCode",
    "LoadedConfig",
    "Project",
    "RunFailedError",
    "UsageError",
    "ValidationError",
    "__version__",
    "find_project",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'daglab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
