"""Checks of the project: daglab's configuration, the project and its folders (``--fix`` makes
them), and telemetry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daglab._doctor.report import Check, DoctorOptions
from daglab._errors import ExitCode


def _load_config(options: DoctorOptions) -> tuple[Any, Check]:
    from daglab._config import load_config, user_config_path
    from daglab._errors import ConfigError

    try:
        loaded = load_config(start=options.start)
    except ConfigError as exc:
        return None, Check(
            "config",
            "fail",
            exc.message,
            remediation=exc.remediation,
            critical=True,
            exit_code=ExitCode.VALIDATION,
        )
    files = [s.label for s in loaded.sources if s.kind in ("file", "pyproject", "user")]
    if not files:
        summary = f"no daglab.yaml found; using defaults (user file: {user_config_path()})"
        return loaded, Check("config", "warn", summary, remediation="Run `daglab init`.")
    return loaded, Check("config", "ok", "valid: " + ", ".join(files))


def check_project(loaded: Any, *, fix: bool) -> list[Check]:
    project = loaded.project
    if not project.is_dagster_project:
        return [
            Check(
                "project",
                "warn",
                f"no Dagster project found at or above {project.root}",
                remediation="cd into a Dagster project, or `daglab init --bootstrap <folder>`.",
            )
        ]
    checks = [
        Check(
            "project",
            "ok",
            f"{project.kind} at {project.root} (package {project.package},"
            f" locations {', '.join(project.locations) or 'none found'};"
            f" markers: {', '.join(project.markers)})",
            data={
                "root": str(project.root),
                "kind": project.kind,
                "package": project.package,
                "location_name": project.location_name,
                "locations": list(project.locations),
                "markers": list(project.markers),
            },
        )
    ]
    wanted: list[tuple[str, Path]] = [
        ("daglab home", project.daglab_dir),
        ("cache folder", project.daglab_dir / "cache"),
        ("notebooks folder", loaded.notebooks_dir),
    ]
    for label, path in wanted:
        checks.append(_folder_check(label, path, project, fix))
    if fix and not (project.root / "daglab.yaml").exists():
        checks.append(_write_default_config(project, loaded))
    return checks


def _folder_check(label: str, path: Path, project: Any, fix: bool) -> Check:
    name = label.replace(" ", "_")
    rel = project.relative(path)
    if path.is_dir():
        return Check(name, "ok", f"{label} {rel}/ exists")
    if fix and project.contains(path):
        path.mkdir(parents=True, exist_ok=True)
        return Check(name, "fixed", f"created {label} {rel}/")
    return Check(
        name,
        "warn",
        f"{label} {rel}/ is missing",
        remediation="Run `daglab doctor --fix` or `daglab init`.",
    )


def _write_default_config(project: Any, loaded: Any) -> Check:
    from daglab._init import InitOptions, _daglab_yaml

    cfg = loaded.config
    written = _daglab_yaml(
        project,
        loaded.notebooks_dir,
        InitOptions(path=project.root, dagster_port=cfg.dagster.port, marimo_port=cfg.marimo.port),
    )
    return Check("config_file", "fixed", f"wrote {project.relative(written.path)}")


def check_telemetry(loaded: Any) -> Check:
    telemetry = loaded.config.telemetry
    if telemetry.enabled:
        return Check(
            "telemetry",
            "warn",
            f"telemetry is ON and sends usage events to {telemetry.endpoint}",
            remediation="Set telemetry.enabled: false in daglab.yaml to turn it off.",
        )
    return Check("telemetry", "ok", "telemetry is off; nothing is sent anywhere")
