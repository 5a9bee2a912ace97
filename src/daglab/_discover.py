"""Filtering what ``DagsterClient.discover`` found: kinds, glob patterns and tags."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from daglab._client import Asset, Discovery, Job
from daglab._pairs import split_pairs

KINDS = ("locations", "repos", "jobs", "assets", "checks", "schedules", "sensors")


@dataclass(frozen=True)
class DiscoverFilter:
    kinds: tuple[str, ...] = KINDS
    pattern: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def parse_tags(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``["team=data", "kind=python"]`` -> pairs; a value may be a glob."""
    return tuple(split_pairs(values, flag="--tags", example="domain=orders"))


def _name_matches(pattern: str | None, *names: str) -> bool:
    return pattern is None or any(fnmatch.fnmatchcase(name, pattern) for name in names)


def _asset_tag(asset: Asset, key: str, wanted: str) -> bool:
    values = list(asset.kinds) if key == "kind" else []
    if key == "group" and asset.group:
        values.append(asset.group)
    if key == "owner":
        values += list(asset.owners)
    if key in asset.tags:
        values.append(asset.tags[key])
    return any(fnmatch.fnmatchcase(v, wanted) for v in values)


def _job_tag(job: Job, key: str, wanted: str) -> bool:
    return key in job.tags and fnmatch.fnmatchcase(job.tags[key], wanted)


def apply(discovery: Discovery, selection: DiscoverFilter) -> dict[str, list[dict[str, Any]]]:
    """The JSON-ready view ``daglab discover`` prints, filtered."""
    pattern, tags = selection.pattern, selection.tags
    result: dict[str, list[dict[str, Any]]] = {}
    if "locations" in selection.kinds:
        result["locations"] = [
            {
                "name": loc.name,
                "load_status": loc.load_status,
                "repositories": list(loc.repositories),
                "error": loc.error,
            }
            for loc in discovery.locations
            if _name_matches(pattern, loc.name) and not tags
        ]
    if "repos" in selection.kinds:
        result["repos"] = [
            {"name": repo, "location": loc.name}
            for loc in discovery.locations
            for repo in loc.repositories
            if _name_matches(pattern, repo) and not tags
        ]
    if "jobs" in selection.kinds:
        result["jobs"] = [
            job.to_dict()
            for job in discovery.jobs
            if _name_matches(pattern, job.name) and all(_job_tag(job, k, v) for k, v in tags)
        ]
    if "assets" in selection.kinds:
        result["assets"] = [
            asset.to_dict()
            for asset in discovery.assets
            if _name_matches(pattern, asset.key, asset.path[-1])
            and all(_asset_tag(asset, k, v) for k, v in tags)
        ]
    if "checks" in selection.kinds:
        result["checks"] = [
            check.to_dict()
            for check in discovery.checks
            if _name_matches(pattern, check.name, check.asset) and not tags
        ]
    if "schedules" in selection.kinds:
        result["schedules"] = [
            schedule.to_dict()
            for schedule in discovery.schedules
            if _name_matches(pattern, schedule.name, schedule.job) and not tags
        ]
    if "sensors" in selection.kinds:
        result["sensors"] = [
            sensor.to_dict()
            for sensor in discovery.sensors
            if _name_matches(pattern, sensor.name, *sensor.jobs) and not tags
        ]
    return result
