"""Typed views of what Dagster's GraphQL answers; built from the raw JSON in one place each."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
IN_FLIGHT_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
ASSET_JOB = "__ASSET_JOB"
#: Tags on every run daglab launches: what launched it (cli, notebook, sweep), and from where.
LAUNCHED_BY_TAG = "daglab/launched-by"
NOTEBOOK_TAG = "daglab/notebook"
SWEEP_TAG = "daglab/sweep"


def tags_from_graphql(raw: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t["value"] for t in raw or []}


@dataclass(frozen=True)
class JobRef:
    """A job in a repository of a code location: what Dagster's selectors need."""

    name: str
    repository: str
    location: str

    def selector(self) -> dict[str, str]:
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "jobName": self.name,
        }

    def pipeline_selector(self) -> dict[str, str]:
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "pipelineName": self.name,
        }


@dataclass(frozen=True)
class Job:
    ref: JobRef
    description: str | None = None
    is_asset_job: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.ref.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.ref.name,
            "repository": self.ref.repository,
            "location": self.ref.location,
            "description": self.description,
            "is_asset_job": self.is_asset_job,
            "tags": self.tags,
        }


@dataclass(frozen=True)
class Asset:
    path: tuple[str, ...]
    group: str | None
    location: str | None
    repository: str | None
    description: str | None = None
    partitioned: bool = False
    kinds: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    partitions: Partitions | None = None
    checks: tuple[AssetCheck, ...] = ()

    @property
    def key(self) -> str:
        return "/".join(self.path)

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Asset:
        repository = node.get("repository") or {}
        owners = []
        for owner in node.get("owners") or []:
            if owner.get("__typename") == "TeamAssetOwner":
                owners.append(f"team:{owner.get('team')}")
            elif owner.get("email"):
                owners.append(str(owner["email"]))
        return cls(
            path=tuple(node["assetKey"]["path"]),
            group=node.get("groupName"),
            location=(repository.get("location") or {}).get("name"),
            repository=repository.get("name"),
            description=node.get("description"),
            partitioned=bool(node.get("isPartitioned")),
            kinds=tuple(node.get("kinds") or ()),
            tags={
                k: v
                for k, v in tags_from_graphql(node.get("tags")).items()
                if not k.startswith("dagster/")
            },
            owners=tuple(owners),
            jobs=tuple(j for j in node.get("jobNames") or () if j != ASSET_JOB),
            partitions=Partitions.from_graphql(node),
            checks=tuple(
                AssetCheck(
                    asset="/".join(node["assetKey"]["path"]),
                    name=check["name"],
                    description=check.get("description"),
                    blocking=bool(check.get("blocking")),
                    location=(repository.get("location") or {}).get("name"),
                )
                for check in (node.get("assetChecksOrError") or {}).get("checks") or ()
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "path": list(self.path),
            "group": self.group,
            "location": self.location,
            "repository": self.repository,
            "description": self.description,
            "partitioned": self.partitioned,
            "kinds": list(self.kinds),
            "tags": dict(self.tags),
            "owners": list(self.owners),
            "jobs": list(self.jobs),
            "partitions": self.partitions.to_dict() if self.partitions else None,
            "checks": [check.name for check in self.checks],
        }


def dynamic_definitions(definition: dict[str, Any]) -> dict[str, str]:
    """The dynamic partitions definitions a GraphQL ``partitionDefinition`` uses, by dimension
    (``""`` when the definition is itself dynamic): the one reading of that shape."""
    found: dict[str, str] = {}
    if definition.get("type") == "DYNAMIC" and definition.get("name"):
        found[""] = str(definition["name"])
    if definition.get("type") == "MULTIPARTITIONED":
        for dimension in definition.get("dimensionTypes") or ():
            name = dimension.get("dynamicPartitionsDefinitionName")
            if name:
                found[str(dimension.get("name"))] = str(name)
    return found


@dataclass(frozen=True)
class Partitions:
    """An asset's partitions definition: its type, how many keys, the first and the last."""

    type: str
    description: str
    count: int | None = None
    first: str | None = None
    last: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    #: The names of the dynamic partitions definitions it uses (itself or its dimensions).
    dynamic_names: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> Partitions | None:
        definition = node.get("partitionDefinition")
        if not definition:
            return None

        def key(alias: str) -> str | None:
            results = (node.get(alias) or {}).get("results") or []
            return str(results[0]) if results else None

        return cls(
            type=str(definition.get("type") or "?"),
            description=str(definition.get("description") or ""),
            count=(node.get("partitionStats") or {}).get("numPartitions"),
            first=key("firstPartition"),
            last=key("lastPartition"),
            dimensions=tuple(
                (str(d.get("name")), str(d.get("type")))
                for d in definition.get("dimensionTypes") or ()
                if definition.get("type") == "MULTIPARTITIONED"
            ),
            dynamic_names=tuple(dynamic_definitions(definition).values()),
        )

    def describe(self) -> str:
        """``DAILY: 1,067 keys, 2024-01-01 .. 2026-12-01`` style one-liner for tables."""
        kind = {"TIME_WINDOW": "time", "MULTIPARTITIONED": "multi"}.get(self.type, self.type)
        kind = kind.lower()
        if self.dimensions:
            kind += " (" + " × ".join(f"{n}: {t.lower()}" for n, t in self.dimensions) + ")"
        if self.count is None:
            return kind
        keys = f"{self.count:,} key{'s' if self.count != 1 else ''}"
        if self.first and self.last and self.count > 1:
            keys += f", {self.first} .. {self.last}"
        elif self.first:
            keys += f", {self.first}"
        return f"{kind}: {keys}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "description": self.description,
            "count": self.count,
            "first": self.first,
            "last": self.last,
            "dimensions": [{"name": n, "type": t} for n, t in self.dimensions],
            "dynamic": list(self.dynamic_names),
            "summary": self.describe(),
        }


@dataclass(frozen=True)
class AssetCheck:
    asset: str
    name: str
    description: str | None = None
    blocking: bool = False
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Schedule:
    name: str
    job: str
    cron: str
    timezone: str | None
    state: str
    location: str
    repository: str
    description: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any], repository: str, location: str) -> Schedule:
        return cls(
            name=node["name"],
            job=node.get("pipelineName") or "",
            cron=node.get("cronSchedule") or "",
            timezone=node.get("executionTimezone"),
            state=(node.get("scheduleState") or {}).get("status") or "?",
            location=location,
            repository=repository,
            description=node.get("description"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sensor:
    name: str
    type: str
    state: str
    location: str
    repository: str
    jobs: tuple[str, ...] = ()
    min_interval_s: int | None = None
    description: str | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any], repository: str, location: str) -> Sensor:
        return cls(
            name=node["name"],
            type=node.get("sensorType") or "?",
            state=(node.get("sensorState") or {}).get("status") or "?",
            location=location,
            repository=repository,
            jobs=tuple(
                t["pipelineName"]
                for t in node.get("targets") or ()
                if t.get("pipelineName") and t["pipelineName"] != ASSET_JOB
            ),
            min_interval_s=node.get("minIntervalSeconds"),
            description=node.get("description"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "jobs": list(self.jobs)}


def _python_error_text(error: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """A ``PythonError`` as Python prints a chained traceback, and its causes' messages."""
    message = str(error.get("message") or "the location failed to load").rstrip()
    parts = [message, "".join(str(line) for line in error.get("stack") or []).rstrip()]
    causes = []
    for cause in error.get("causes") or []:
        text = str(cause.get("message") or "").rstrip()
        causes.append(text)
        parts += [
            "\nThe above exception was caused by the following exception:",
            text,
            "".join(str(line) for line in cause.get("stack") or []).rstrip(),
        ]
    return "\n".join(part for part in parts if part) + "\n", tuple(causes)


@dataclass(frozen=True)
class Location:
    """A code location; ``load_status`` is ``FAILED`` when it did not load (``error`` says why:
    Dagster reports such a location as ``LOADED`` with a Python error in its place)."""

    name: str
    load_status: str
    #: The whole error as Dagster reports it: its message and stack, then each cause's.
    error: str | None = None
    repositories: tuple[str, ...] = ()
    #: The messages of the error's causes, outermost first (the last is the root cause).
    causes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Discovery:
    """Everything ``daglab discover`` shows, from one round trip."""

    locations: list[Location]
    jobs: list[Job]
    assets: list[Asset]
    groups: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)

    @property
    def checks(self) -> list[AssetCheck]:
        return [check for asset in self.assets for check in asset.checks]

    @property
    def failed_locations(self) -> list[Location]:
        return [location for location in self.locations if location.failed]

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> Discovery:
        locations: list[Location] = []
        jobs: list[Job] = []
        groups: dict[tuple[str, str, str], list[str]] = {}
        schedules: list[Schedule] = []
        sensors: list[Sensor] = []
        workspace = data.get("workspaceOrError") or {}
        # Webservers before 1.12 cannot resolve isAssetJob: there, asset nodes name their jobs.
        nodes = data.get("assetNodes") or []
        asset_jobs = {name for node in nodes for name in node.get("jobNames") or []}
        for entry in workspace.get("locationEntries") or []:
            loaded = entry.get("locationOrLoadError") or {}
            if loaded.get("__typename") != "RepositoryLocation":
                if loaded.get("__typename") == "PythonError":
                    error, causes = _python_error_text(loaded)
                    locations.append(Location(entry["name"], "FAILED", error, causes=causes))
                else:  # still loading, or no answer yet
                    locations.append(Location(entry["name"], entry.get("loadStatus", "?")))
                continue
            repo_names = []
            for repo in loaded.get("repositories") or []:
                repo_names.append(repo["name"])
                schedules += [
                    Schedule.from_graphql(node, repo["name"], entry["name"])
                    for node in repo.get("schedules") or ()
                ]
                sensors += [
                    Sensor.from_graphql(node, repo["name"], entry["name"])
                    for node in repo.get("sensors") or ()
                ]
                for job in repo.get("jobs") or []:
                    if job["name"] == ASSET_JOB:
                        continue
                    jobs.append(
                        Job(
                            JobRef(job["name"], repo["name"], entry["name"]),
                            job.get("description"),
                            bool(job["isAssetJob"])
                            if "isAssetJob" in job
                            else job["name"] in asset_jobs,
                            tags_from_graphql(job.get("tags")),
                        )
                    )
                for group in repo.get("assetGroups") or []:
                    groups.setdefault((entry["name"], repo["name"], group["groupName"]), [])
            locations.append(
                Location(entry["name"], entry.get("loadStatus", "?"), None, tuple(repo_names))
            )
        assets = [Asset.from_graphql(node) for node in data.get("assetNodes") or []]
        for asset in assets:
            key = (asset.location or "", asset.repository or "", asset.group or "default")
            groups.setdefault(key, []).append(asset.key)
        return cls(locations, jobs, assets, groups, schedules, sensors)


@dataclass(frozen=True)
class Run:
    run_id: str
    status: str
    job_name: str | None = None
    created: float | None = None
    started: float | None = None
    ended: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    url: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    @classmethod
    def from_graphql(cls, node: dict[str, Any], url: str | None = None) -> Run:
        return cls(
            run_id=node["runId"],
            status=node["status"],
            job_name=node.get("jobName"),
            created=node.get("creationTime"),
            started=node.get("startTime"),
            ended=node.get("endTime"),
            tags=tags_from_graphql(node.get("tags")),
            url=url,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "duration": self.duration}


@dataclass(frozen=True)
class ConfigProblem:
    message: str
    reason: str | None = None


@dataclass(frozen=True)
class StepFailure:
    step: str | None
    message: str
    error_class: str | None = None
    cause: str | None = None

    def describe(self) -> str:
        where = f"step {self.step}: " if self.step else ""
        detail = self.cause or self.message
        return f"{where}{detail}".strip()
