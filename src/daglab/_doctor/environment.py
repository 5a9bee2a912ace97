"""Checks of this machine: Python, daglab's packages (as ``pip check`` sees them), Dagster and
marimo, and ``DAGSTER_HOME`` with its instance."""

from __future__ import annotations

import importlib.metadata as md
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from daglab._doctor.report import Check
from daglab._errors import ExitCode
from daglab._host import find_executable

MIN_PYTHON = (3, 10)


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Check(
            "python",
            "fail",
            f"Python {version} is too old",
            remediation="Install Python 3.10 or newer.",
            critical=True,
            exit_code=ExitCode.ENVIRONMENT,
        )
    return Check("python", "ok", f"Python {version} ({sys.executable})")


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def _suggest(req: Any, installed: str) -> str:
    """``pip install`` line that satisfies ``req``, saying whether it up- or downgrades."""
    from packaging.version import InvalidVersion, Version

    def bound(text: str) -> Version | None:
        try:  # "1.*" of ==1.* is the version 1; an unparsable one says nothing
            return Version(text.removesuffix(".*"))
        except InvalidVersion:
            return None

    try:
        version = Version(installed)
    except InvalidVersion:
        return f"install: pip install '{req.name}{req.specifier}'"
    lower = [bound(s.version) for s in req.specifier if s.operator in (">=", ">", "==", "~=")]
    direction = "upgrade"
    if lower and all(b is not None and version > b for b in lower):
        direction = "downgrade"
    return f"{direction}: pip install '{req.name}{req.specifier}'"


def _fix(problem: Any) -> str:
    from packaging.requirements import Requirement

    req = Requirement(problem.requirement)
    if problem.installed is None:
        return f"install: pip install '{req}'"
    return _suggest(req, problem.installed)


def check_requirements(dist: str, *, deep: bool, path: Sequence[str] | None = None) -> list[Check]:
    """``dist``'s direct requirements installed at accepted versions; with ``deep`` every
    installed package, by ``pip check``'s rules (:mod:`daglab._deps`), so the two agree.

    A problem is critical when it is in ``dist``'s own dependency tree (or, without ``deep``,
    any problem with its direct requirements); elsewhere it fails without stopping daglab.
    ``path`` looks at another environment's ``site-packages`` instead of this one.
    """
    from daglab._deps import canonical, check_packages, dependency_tree, installed_packages

    packages = installed_packages(path)
    own = packages.get(canonical(dist))
    if own is None:
        return [
            Check(
                "packages",
                "fail",
                f"{dist} is not installed as a package",
                remediation="pip install -e . (from a clone) or pip install daglab",
                critical=True,
                exit_code=ExitCode.ENVIRONMENT,
            )
        ]
    tree = dependency_tree(packages, dist)
    problems = check_packages(packages, None if deep else [dist])
    scope = f"{len(packages)} installed packages (as pip check)" if deep else "direct requirements"
    checked = (
        sum(len(info.requirements) for info in packages.values()) if deep else len(own.requirements)
    )
    if not problems:
        return [
            Check(
                "packages",
                "ok",
                f"{dist} {own.version}: {checked} requirement(s) of its {scope} satisfied"
                if not deep
                else f"{dist} {own.version}: no broken requirements in the {scope}",
                data={"checked": checked, "deep": deep, "problems": []},
            )
        ]
    ours = [p for p in problems if p.package in tree]
    fixes = list(dict.fromkeys(_fix(p) for p in problems))
    sentences = [p.describe() for p in problems]
    where = f"{len(ours)} in {dist}'s dependency tree" if deep else f"{dist}'s requirements"
    return [
        Check(
            "packages",
            "fail",
            f"{len(problems)} broken requirement(s) ({where}): " + " ".join(sentences),
            remediation="; ".join(fixes),
            critical=bool(ours),
            exit_code=ExitCode.ENVIRONMENT,
            data={
                "deep": deep,
                "problems": sentences,
                "in_daglab_tree": [p.describe() for p in ours],
                "suggestions": fixes,
            },
        )
    ]


def check_tool(package: str, command: str) -> Check:
    """``package``'s version against daglab's tested range, and its command on PATH.

    Dagster and marimo are extras: without them the commands that talk to a webserver work, so
    their absence is a warning that names what needs them and the extra that installs them.
    """
    from daglab._compat import TESTED, outside_tested_range
    from daglab._compat.versions import install_hint

    version = _installed(package)
    tested = TESTED[package].describe() if package in TESTED else None
    if version is None:
        needs = {
            "dagster": "in-process runs, `dev` and typed export metadata",
            "marimo": "scaffold checks, export, migrate and `dev`",
        }.get(package, "some commands")
        return Check(
            package,
            "warn",
            f"{package} is not installed: {needs} need it (discover, run and stats do not)",
            remediation=install_hint(package) + ".",
            data={"version": None, "tested": tested},
        )
    data = {"version": version, "tested": tested}
    outside = outside_tested_range(package, version)
    if outside is not None:
        return Check(
            package,
            "warn",
            f"{outside}; daglab is tested with {package} {tested}",
            remediation=f"pip install '{package}>={TESTED[package].oldest}' if something"
            " misbehaves, and report it.",
            data=data,
        )
    exe = find_executable(command)
    if exe is None:
        return Check(
            package,
            "warn",
            f"{package} {version} is installed but the `{command}` command is not on PATH",
            remediation=f"Activate the environment that has {package}, or add it to PATH.",
            data=data,
        )
    return Check(package, "ok", f"{package} {version} ({exe}; tested: {tested})", data=data)


def check_dagster_home(env: dict[str, str]) -> Check:
    home = env.get("DAGSTER_HOME")
    if not home:
        return Check(
            "dagster_home",
            "warn",
            "DAGSTER_HOME is not set: `dagster dev` keeps runs in a temporary folder",
            remediation="export DAGSTER_HOME=~/.dagster_home (an absolute folder) to keep runs.",
        )
    path = Path(home)
    if not path.is_absolute() or not path.is_dir():
        return Check(
            "dagster_home",
            "fail",
            f"DAGSTER_HOME={home} is not an existing absolute folder",
            remediation=f"mkdir -p {home}, or unset DAGSTER_HOME.",
            critical=True,
            exit_code=ExitCode.ENVIRONMENT,
        )
    instance = describe_instance(path)
    return Check(
        "dagster_home",
        "ok",
        f"DAGSTER_HOME={home}; instance storage: {instance['storage']}"
        f"; Dagster telemetry {'on' if instance['telemetry'] else 'off'}",
        data=instance,
    )


def describe_instance(home: Path) -> dict[str, Any]:
    """Storage kind and telemetry setting from ``$DAGSTER_HOME/dagster.yaml`` (not imported)."""
    import yaml  # defer for import performance

    info: dict[str, Any] = {"path": str(home), "storage": "sqlite (default)", "telemetry": True}
    path = home / "dagster.yaml"
    if not path.is_file():
        return info
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        info["error"] = f"dagster.yaml is not valid YAML: {exc}"
        return info
    if isinstance(data, dict):
        storage = data.get("storage") or data.get("run_storage")
        if isinstance(storage, dict) and storage:
            info["storage"] = next(iter(storage))
        telemetry = data.get("telemetry")
        if isinstance(telemetry, dict):
            info["telemetry"] = bool(telemetry.get("enabled", True))
    return info
