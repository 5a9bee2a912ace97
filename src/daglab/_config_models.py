"""The typed, validated shape of daglab's configuration (section 3.1 of the specification)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator  # noqa: TID253

from daglab._url import SafeUrl

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
NotebookTemplate = Literal["default", "minimal", "ml"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AuthType(str, Enum):
    NONE = "none"
    BEARER = "bearer"
    BASIC = "basic"
    CUSTOM = "custom"


class AuthSettings(_Section):
    type: AuthType = AuthType.NONE
    #: Name of the environment variable that holds the token (never the token itself).
    token_env: str = "DAGSTER_GRAPHQL_TOKEN"  # noqa: S105  a variable's name, not a token
    header_name: str = "Authorization"


class GraphQLSettings(_Section):
    #: Seconds one request may wait for an answer (the read timeout).
    timeout: float = Field(30.0, gt=0, le=3600)
    max_retries: int = Field(3, ge=0, le=20)
    #: Seconds to open a connection; a server that is not there fails fast.
    connect_timeout: float = Field(5.0, gt=0, le=600)
    #: Seconds one operation may take in all, retries included: then daglab gives up.
    retry_budget_seconds: float = Field(60.0, gt=0, le=3600)
    #: Seconds a wait for a run rides out an outage (a `dagster dev` restart takes about 20).
    wait_outage_seconds: float = Field(60.0, ge=0, le=86400)
    #: Consecutive failures after which calls to the endpoint fail fast (the circuit opens).
    breaker_threshold: int = Field(5, ge=1, le=1000)
    #: Seconds the open circuit fails fast before one trial call may go through.
    breaker_cooldown_seconds: float = Field(15.0, gt=0, le=3600)


class DagsterSettings(_Section):
    # A rejected value is never echoed: dagster.url may hold a password.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, hide_input_in_errors=True)

    host: str = "localhost"
    port: int = Field(3000, ge=1, le=65535)
    #: A full endpoint (e.g. a Dagster+ deployment URL); wins over host/port. Its password and
    #: query-string tokens never show: see :class:`daglab._url.SafeUrl`.
    url: SafeUrl | None = None
    #: The webserver's ``--path-prefix``, if it runs under one.
    path_prefix: str = ""
    repository_name: str | None = None
    #: Retired: no command read it. Each job's and asset's code location comes from Dagster
    #: itself, and ``--location`` picks one where a name is in several; one configured location
    #: was wrong for every other location of a multi-location project. Still accepted, so files
    #: that have it (the specification's example does) keep loading, with a warning
    #: (:func:`retired_key_warnings`).
    repository_location_name: str | None = None
    auth: AuthSettings = Field(default_factory=AuthSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)

    @field_validator("url", mode="before")
    @classmethod
    def _http_url(cls, value: Any) -> Any:
        if not isinstance(value, (str, SafeUrl)):
            return value
        from urllib.parse import urlsplit

        raw = value.get_secret_value() if isinstance(value, SafeUrl) else value
        parts = urlsplit(raw)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            ok = False
        else:
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        # The message never repeats the value: it may hold a password.
        if not ok:
            raise ValueError("must be an http:// or https:// URL, e.g. http://localhost:3000")
        return SafeUrl(raw.rstrip("/"))

    @field_validator("path_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip().strip("/")
        return f"/{value}" if value else ""

    @property
    def base_url(self) -> SafeUrl:
        """The webserver's root URL: ``url`` when set, else host, port and path prefix."""
        if self.url:
            return self.url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return SafeUrl(f"http://{host}:{self.port}{self.path_prefix}")

    @property
    def graphql_url(self) -> SafeUrl:
        return self.base_url.join("graphql")


class MarimoSettings(_Section):
    port: int = Field(3010, ge=1, le=65535)
    auto_save: bool = True


class DefaultsSettings(_Section):
    notebook_template: NotebookTemplate = "default"
    attach_metadata_key: str = Field("exploration", min_length=1)
    open_browser: bool = True
    git_commit: bool = False
    validate_config: bool = True
    seed_data: bool = False


class PerformanceSettings(_Section):
    max_concurrent_runs: int = Field(3, ge=1, le=1000)
    polling_interval: float = Field(2.0, gt=0, le=3600)
    max_wait_time: float = Field(300.0, gt=0)
    #: A sweep file gets this long to give its configs, and at most this many of them.
    sweep_time_limit: float = Field(60.0, gt=0, le=3600)
    sweep_max_configs: int = Field(1000, ge=1)
    #: Above this many configs, a sweep started at a terminal asks before launching.
    sweep_confirm_above: int = Field(100, ge=1)
    #: In-process sweeps: configs run at once (each in a subprocess), bounded by the CPU count.
    sweep_parallel: int = Field(2, ge=1, le=256)


class CloudStorageSettings(_Section):
    provider: Literal["none", "s3", "gcs", "azure"] = "none"
    bucket: str | None = None
    prefix: str = "daglab-exports/"


class ExportSettings(_Section):
    retention_days: int = Field(30, ge=0)
    compress: bool = True
    cloud_storage: CloudStorageSettings = Field(default_factory=CloudStorageSettings)


class LoggingSettings(_Section):
    level: LogLevel = "INFO"
    format: str = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
    file: str = ".daglab/daglab.log"
    max_bytes: int = Field(10 * 1024 * 1024, ge=0)
    backup_count: int = Field(5, ge=0)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class TelemetrySettings(_Section):
    enabled: bool = False
    endpoint: str = "https://telemetry.daglab.io"
    anonymous_id: str | None = None


class SecuritySettings(_Section):
    sandbox_mode: bool = False
    allowed_operations: list[str] = Field(
        default_factory=lambda: ["launchRun", "getRunStatus", "getRepositories"]
    )


class McpSettings(_Section):
    #: Operations `daglab mcp` allows besides its read-only tools (launchRun, terminateRun,
    #: scaffoldNotebook, exportNotebook); fixed when the server starts. Empty: read-only.
    allow: list[str] = Field(default_factory=list)


class DaglabConfig(_Section):
    """Everything ``daglab.yaml`` can hold; every field has a default."""

    version: str = "1.0"
    #: Relative to the project root; unset means "detected" (``<code package>/notebooks``).
    notebooks_dir: str | None = None
    auto_discover: bool = True
    dagster: DagsterSettings = Field(default_factory=DagsterSettings)
    marimo: MarimoSettings = Field(default_factory=MarimoSettings)
    defaults: DefaultsSettings = Field(default_factory=DefaultsSettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    mcp: McpSettings = Field(default_factory=McpSettings)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> str:
        text = str(value)
        if text.split(".")[0] != "1":
            raise ValueError(f"unsupported config version {text!r}; this daglab reads version 1")
        return text


def leaf_paths(model: type[BaseModel] = DaglabConfig, prefix: str = "") -> list[str]:
    """Every dotted key path the model accepts, leaves only (``dagster.auth.type``…)."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += leaf_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def section_keys(path: tuple[str, ...]) -> list[str]:
    """The keys valid at the nesting level named by ``path`` (for "did you mean")."""
    model: type[BaseModel] = DaglabConfig
    for name in path:
        info = model.model_fields.get(name)
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


#: Keys daglab accepts but no longer reads, and what to do instead.
RETIRED_KEYS: dict[tuple[str, ...], str] = {
    ("dagster", "repository_location_name"): "daglab finds each job's and asset's code location"
    " from Dagster (give --location where a name is in several locations); delete the line",
}


def retired_key_warnings(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """A warning for each retired key set in a configuration layer: (label, raw mapping)."""
    warnings = []
    for label, data in layers:
        for path, instead in RETIRED_KEYS.items():
            node: Any = data
            for part in path:
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is not None:
                warnings.append(f"{'.'.join(path)} in {label} is no longer read: {instead}")
    return warnings
