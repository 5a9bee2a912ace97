"""``daglab doctor``: diagnose the environment, and repair what is safe to repair.

Nothing here imports Dagster or marimo: versions come from package metadata, the webserver is
asked over HTTP. The checks live by what they look at: ``environment`` (Python, packages, tools,
``DAGSTER_HOME``), ``project`` (configuration, folders, telemetry) and ``server`` (the webserver,
GraphQL, code locations); ``report`` holds what they return.
"""

from __future__ import annotations

import os

from daglab._doctor.environment import (
    MIN_PYTHON,
    _suggest,
    check_dagster_home,
    check_python,
    check_requirements,
    check_tool,
    describe_instance,
)
from daglab._doctor.project import _load_config, check_project, check_telemetry
from daglab._doctor.report import Check, DoctorOptions, DoctorReport, Status
from daglab._doctor.server import ERROR_LINES, check_code_locations, check_servers
from daglab._logging import get_logger

__all__ = [
    "ERROR_LINES",
    "MIN_PYTHON",
    "Check",
    "DoctorOptions",
    "DoctorReport",
    "Status",
    "_suggest",
    "check_code_locations",
    "check_dagster_home",
    "check_project",
    "check_python",
    "check_requirements",
    "check_servers",
    "check_telemetry",
    "check_tool",
    "describe_instance",
    "run_doctor",
]


def run_doctor(options: DoctorOptions) -> DoctorReport:
    env = dict(os.environ if options.environ is None else options.environ)
    checks: list[Check] = [check_python()]
    checks += check_requirements("daglab", deep=options.check_deps)
    checks += [check_tool("dagster", "dagster"), check_tool("marimo", "marimo")]
    checks.append(check_dagster_home(env))
    loaded, config_check = _load_config(options)
    checks.append(config_check)
    if loaded is not None:
        checks += check_project(loaded, fix=options.fix)
        checks += check_servers(loaded, timeout=options.timeout, environ=env)
        checks.append(check_telemetry(loaded))
    report = DoctorReport(checks)
    get_logger("doctor").info(
        "doctor: %d check(s), critical failures: %s",
        len(checks),
        ", ".join(c.name for c in report.failed) or "none",
    )
    return report
