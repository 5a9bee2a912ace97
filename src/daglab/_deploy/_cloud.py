"""Dagster+: ``dagster_cloud.yaml`` at the workspace root, checked with dagster-cloud-cli's model.

One entry per code location: its name, code source, working directory and build directory (the
project folder, relative to the file), and for Hybrid a Kubernetes container context that takes
each environment variable the module needs from a Kubernetes Secret (names and references only,
never a value). The CI workflow is ``dg plus deploy configure``'s job, not daglab's.
"""

from __future__ import annotations

from typing import Any

from daglab._deploy._helm import k8s_name, secret_name
from daglab._deploy._inputs import CodeLocation
from daglab._errors import ValidationError

FILE_NAME = "dagster_cloud.yaml"


def cloud_yaml(
    locations: tuple[CodeLocation, ...], *, hybrid: bool, registry: str | None = None
) -> dict[str, Any]:
    entries = []
    for location in locations:
        if location.kind == "grpc":
            continue  # Dagster+ builds and serves its own code servers
        if location.kind == "file":
            source = {"python_file": location.file}
        else:
            source = {"module_name": location.module}
        entry: dict[str, Any] = {
            "location_name": location.name,
            "code_source": source,
            "working_directory": location.working_directory,
            "build": {"directory": location.project},
        }
        if hybrid and registry:
            entry["build"]["registry"] = f"{registry}/{k8s_name(location.name)}"
        if hybrid and location.env:
            env = [
                {
                    "name": name,
                    "valueFrom": {
                        "secretKeyRef": {"name": secret_name(location.name), "key": name}
                    },
                }
                for name in location.env
            ]
            entry["container_context"] = {
                "k8s": {
                    "server_k8s_config": {"container_config": {"env": env}},
                    "run_k8s_config": {"container_config": {"env": env}},
                }
            }
        entries.append(entry)
    return {"locations": entries}


def check(document: dict[str, Any]) -> tuple[str, str]:
    """``("ok"|"skipped", detail)``; ValidationError when dagster-cloud-cli's model rejects it."""
    try:
        from dagster_cloud_cli.config.models import DagsterCloudYaml
    except ImportError:
        return (
            "skipped",
            "dagster-cloud-cli is not installed (it comes with dagster-dg-cli), so the file was"
            " not checked with DagsterCloudYaml",
        )
    from pydantic import ValidationError as PydanticValidationError

    try:
        DagsterCloudYaml.model_validate(document)
    except PydanticValidationError as exc:
        raise ValidationError(
            f"{FILE_NAME} fails dagster-cloud-cli's DagsterCloudYaml model: {exc}",
            remediation="Fix the entries named above, or the workspace they come from.",
        ) from exc
    return "ok", f"passes dagster-cloud-cli's DagsterCloudYaml model ({_version()})"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"dagster-cloud-cli {version('dagster-cloud-cli')}"
    except PackageNotFoundError:
        return "dagster-cloud-cli"
