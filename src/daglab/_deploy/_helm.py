"""Kubernetes: a ``dagster-user-deployments`` values file, checked against the chart's schema.

The values are merged with the chart's default ``values.yaml`` the way helm merges a user's
values file (maps deep-merged, lists and scalars replaced) and the result is validated with the
chart's ``values.schema.json``, both vendored under ``schemas/`` and pinned (``CHART_PIN``).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from daglab._deploy._inputs import CodeLocation
from daglab._errors import ValidationError

#: The upstream chart files daglab vendors (see schemas/README.md).
CHART_PIN = {
    "chart": "dagster-user-deployments",
    "repository": "https://github.com/dagster-io/dagster",
    "values.schema.json": "03ec7fc9e6bb0e95ba22e72fae2159b3188bc4fb",
    "values.yaml": "031a3e8c0ccc854192ee6b0b025358dacbea65e7",
}
REMOTE = "https://kubernetesjsonschema.dev/"


def _read(name: str) -> str:
    return (resources.files("daglab._deploy") / "schemas" / name).read_text(encoding="utf-8")


def chart_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read("values.schema.json"))
    return data


def chart_defaults() -> dict[str, Any]:
    import yaml  # defer for import performance

    data: dict[str, Any] = yaml.safe_load(_read("values.yaml"))
    return data


def k8s_name(location: str) -> str:
    """A DNS-1123 label for a location (Deployment, Service and Secret names)."""
    name = re.sub(r"[^a-z0-9-]+", "-", location.lower()).strip("-")
    return name[:63].rstrip("-") or "code"


def secret_name(location: str) -> str:
    return f"{k8s_name(location)[:56].rstrip('-')}-env"


def values(
    locations: tuple[CodeLocation, ...], *, registry: str | None, tag: str | None
) -> dict[str, Any]:
    """The values file's content: one deployment per code location served from an image."""
    deployments = []
    for location in locations:
        if location.kind == "grpc":
            continue  # served elsewhere: not a deployment of this chart
        name = k8s_name(location.name)
        if location.kind == "file":
            args = ["-f", location.file or ""]
        else:
            args = ["-m", location.module or ""]
        if location.working_directory != ".":
            args += ["-d", location.working_directory]
        deployment: dict[str, Any] = {
            "name": name,
            "image": {
                "repository": f"{registry}/{name}" if registry else name,
                "tag": tag,
                "pullPolicy": "Always",
            },
            "dagsterApiGrpcArgs": args,
            "port": location.port,
            "includeConfigInLaunchedRuns": {"enabled": True},
        }
        if location.env:
            deployment["env"] = [
                {
                    "name": env,
                    "valueFrom": {"secretKeyRef": {"name": secret_name(location.name), "key": env}},
                }
                for env in location.env
            ]
        deployments.append(deployment)
    return {"deployments": deployments}


def helm_merge(base: Any, override: Any) -> Any:
    """``override`` over ``base`` as helm coalesces values: maps merge key by key, anything
    else (lists included) replaces; a null in ``override`` deletes the key."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = helm_merge(base.get(key), value) if key in base else value
        return merged
    return override


def _stub_registry(schema: dict[str, Any]) -> Any:
    """A ``referencing`` registry answering every remote reference with a permissive schema."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    documents: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REMOTE):
                uri, _, pointer = ref.partition("#")
                target = documents.setdefault(uri, {})
                for part in [p for p in pointer.split("/") if p]:
                    target = target.setdefault(part, {})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    registry: Any = Registry()
    for uri, document in documents.items():
        registry = registry.with_resource(uri, DRAFT202012.create_resource(document))
    return registry


def problems(user_values: dict[str, Any]) -> list[str]:
    """What the chart's schema rejects in ``user_values`` merged over the chart's defaults."""
    import jsonschema  # type: ignore[import-untyped]  # defer for import performance

    schema = chart_schema()
    merged = helm_merge(chart_defaults(), user_values)
    validator = jsonschema.Draft202012Validator(schema, registry=_stub_registry(schema))
    found = []
    for error in sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        found.append(f"{where}: {error.message}")
    return found


def check(user_values: dict[str, Any], *, source: str = "values") -> str:
    """Raise ValidationError unless the chart accepts ``user_values``; return what was checked."""
    found = problems(user_values)
    if found:
        raise ValidationError(
            f"{source} fails the {CHART_PIN['chart']} chart's schema: " + "; ".join(found[:5]),
            remediation="Fix the values named above (the chart's values.schema.json rejects them).",
            problems=found,
        )
    return (
        f"values merged with the chart's defaults pass {CHART_PIN['chart']}'s values.schema.json"
        f" (dagster-io/dagster@{CHART_PIN['values.schema.json'][:8]})"
    )
