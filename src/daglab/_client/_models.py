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
        }


@dataclass(frozen=True)
class Location:
    name: str
    load_status: str
    error: str | None = None
    repositories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discovery:
    """Everything ``daglab discover`` shows, from one round trip."""

    locations: list[Location]
    jobs: list[Job]
    assets: list[Asset]
    groups: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> Discovery:
        locations: list[Location] = []
        jobs: list[Job] = []
        groups: dict[tuple[str, str, str], list[str]] = {}
        workspace = data.get("workspaceOrError") or {}
        # Webservers before 1.12 cannot resolve isAssetJob: there, asset nodes name their jobs.
        nodes = data.get("assetNodes") or []
        asset_jobs = {name for node in nodes for name in node.get("jobNames") or []}
        for entry in workspace.get("locationEntries") or []:
            loaded = entry.get("locationOrLoadError") or {}
            if loaded.get("__typename") != "RepositoryLocation":
                error = loaded.get("message") if loaded else None
                locations.append(Location(entry["name"], entry.get("loadStatus", "?"), error))
                continue
            repo_names = []
            for repo in loaded.get("repositories") or []:
                repo_names.append(repo["name"])
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
        return cls(locations, jobs, assets, groups)


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
