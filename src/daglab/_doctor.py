"""``daglab doctor``: diagnose the environment, and repair what is safe to repair.

Nothing here imports Dagster or marimo: versions come from package metadata, the webserver is
asked over HTTP.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from daglab._errors import DaglabError, ExitCode

if TYPE_CHECKING:
    from daglab._url import SafeUrl
from daglab._logging import get_logger

Status = Literal["ok", "warn", "fail", "skip", "fixed"]
MIN_PYTHON = (3, 10)


@dataclass
class Check:
    name: str
    status: Status
    summary: str
    remediation: str | None = None
    critical: bool = False
    exit_code: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DoctorReport:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail" and c.critical]

    @property
    def exit_code(self) -> int:
        return int(self.failed[0].exit_code or ExitCode.ENVIRONMENT) if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "exit_code": self.exit_code,
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass(frozen=True)
class DoctorOptions:
    start: Path
    fix: bool = False
    check_deps: bool = False
    timeout: float = 3.0
    environ: dict[str, str] | None = None


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


def _requirements(dist: str) -> list[Any]:
    """The requirements of ``dist`` that apply here (markers evaluated, extras excluded)."""
    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for text in md.requires(dist) or []:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found.append(req)
    return found


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def _suggest(req: Any, installed: str) -> str:
    """``pip install`` line that satisfies ``req``, saying whether it up- or downgrades."""
    from packaging.version import Version

    version = Version(installed)
    lower = [s for s in req.specifier if s.operator in (">=", ">", "==", "~=")]
    direction = "upgrade"
    if lower and all(version > Version(s.version) for s in lower):
        direction = "downgrade"
    return f"{direction}: pip install '{req.name}{req.specifier}'"


def check_requirements(dist: str, *, deep: bool) -> list[Check]:
    """Each requirement of ``dist`` installed at an accepted version; with ``deep`` the whole
    dependency tree, like ``pip check`` restricted to what daglab pulls in."""
    version = _installed(dist)
    if version is None:
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
    problems: list[str] = []
    fixes: list[str] = []
    missing = False
    seen: set[str] = set()
    queue = [dist]
    checked = 0
    while queue:
        current = queue.pop()
        for req in _requirements(current):
            key = req.name.lower().replace("_", "-")
            installed = _installed(req.name)
            checked += 1
            if installed is None:
                problems.append(f"{req.name} is required by {current} but not installed")
                fixes.append(f"install: pip install '{req}'")
                missing = True
            elif not req.specifier.contains(installed, prereleases=True):
                problems.append(
                    f"{req.name} {installed} does not satisfy {current}'s {req.specifier}"
                )
                fixes.append(_suggest(req, installed))
            elif deep and key not in seen:
                queue.append(req.name)
            seen.add(key)
        if not deep:
            break
    scope = "dependency tree" if deep else "direct requirements"
    if problems:
        return [
            Check(
                "packages",
                "fail",
                f"{len(problems)} problem(s) in daglab's {scope}: " + "; ".join(problems),
                remediation="; ".join(dict.fromkeys(fixes)),
                critical=missing or not deep,
                exit_code=ExitCode.ENVIRONMENT,
                data={"problems": problems, "suggestions": list(dict.fromkeys(fixes))},
            )
        ]
    return [
        Check(
            "packages",
            "ok",
            f"daglab {version}: {checked} requirement(s) in its {scope} satisfied",
            data={"checked": checked, "deep": deep},
        )
    ]


def check_tool(package: str, command: str) -> Check:
    """``package``'s version against daglab's tested range, and its command on PATH.

    Dagster and marimo are extras: without them the commands that talk to a webserver work, so
    their absence is a warning that names what needs them and the extra that installs them.
    """
    from daglab._compat import TESTED, outside_tested_range
    from daglab._compat.versions import install_hint
    from daglab._sidecar import find_executable

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
            f" location {project.location_name}; markers: {', '.join(project.markers)})",
            data={
                "root": str(project.root),
                "kind": project.kind,
                "package": project.package,
                "location_name": project.location_name,
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


def port_open(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_servers(loaded: Any, *, timeout: float, environ: dict[str, str]) -> list[Check]:
    dagster = loaded.config.dagster
    base = dagster.base_url
    host = base.hostname or dagster.host
    port = base.port or 80
    checks = []
    if not port_open(host, port, timeout):
        checks.append(
            Check(
                "webserver",
                "warn",
                f"nothing answers on {host}:{port} ({dagster.base_url})",
                remediation="Start the Dagster UI with `dagster dev` (or `dg dev`) to use"
                " discover, run and export.",
                data={"url": str(dagster.base_url), "reachable": False},
            )
        )
    else:
        checks += _probe_webserver(loaded, timeout=timeout, environ=environ)
    marimo_port = loaded.config.marimo.port
    in_use = port_open("127.0.0.1", marimo_port, timeout)
    checks.append(
        Check(
            "marimo_port",
            "ok",
            f"port {marimo_port} is {'in use (a marimo editor?)' if in_use else 'free'}",
            data={"port": marimo_port, "in_use": in_use},
        )
    )
    return checks


def _probe_webserver(loaded: Any, *, timeout: float, environ: dict[str, str]) -> list[Check]:
    import httpx  # defer for import performance

    from daglab._auth import auth_headers
    from daglab._logging import get_logger

    dagster = loaded.config.dagster
    log = get_logger("doctor")
    try:
        headers = auth_headers(dagster.auth, dagster.base_url, environ=environ)
    except DaglabError as exc:
        return [
            Check(
                "webserver_auth",
                "fail",
                exc.message,
                remediation=exc.remediation,
                critical=True,
                exit_code=exc.exit_code,
            )
        ]
    checks = []
    with httpx.Client(timeout=timeout, headers=headers) as http:
        log.debug("GET %s/server_info headers=%s", dagster.base_url, headers)
        try:
            info = http.get(dagster.base_url.join("server_info").get_secret_value())
            versions = info.json() if info.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            versions = {}
            log.debug("server_info failed: %s", exc)
        version = versions.get("dagster_webserver_version")
        checks.append(
            Check(
                "webserver",
                "ok" if version else "warn",
                f"Dagster webserver {version} at {dagster.base_url}"
                if version
                else f"{dagster.base_url} answers but /server_info does not look like Dagster",
                data={"url": str(dagster.base_url), "reachable": True, **versions},
            )
        )
        checks.append(_probe_graphql(http, dagster.graphql_url, log))
    return checks


def _probe_graphql(http: Any, url: SafeUrl, log: Any) -> Check:
    import httpx  # defer for import performance

    timings = []
    response = None
    try:
        for _ in range(3):
            started = time.perf_counter()
            response = http.post(url.get_secret_value(), json={"query": "{ version }"})
            timings.append((time.perf_counter() - started) * 1000)
    except httpx.HTTPError as exc:
        return Check(
            "graphql",
            "fail",
            f"GraphQL request to {url} failed: {exc}",
            remediation="Check dagster.url / dagster.path_prefix.",
            critical=True,
            exit_code=ExitCode.CONNECTIVITY,
        )
    assert response is not None  # noqa: S101  type narrowing, an invariant
    log.debug("POST %s -> %s", url, response.status_code)
    if response.status_code in (401, 403):
        return Check(
            "graphql",
            "fail",
            f"{url} refused the credentials (HTTP {response.status_code})",
            remediation="Set the token in the variable named by dagster.auth.token_env"
            " and check dagster.auth.type.",
            critical=True,
            exit_code=ExitCode.AUTHENTICATION,
        )
    try:
        version = response.json()["data"]["version"]
    except (ValueError, KeyError, TypeError):
        return Check(
            "graphql",
            "fail",
            f"{url} answered HTTP {response.status_code} without GraphQL data",
            remediation="Check dagster.url / dagster.path_prefix.",
            critical=True,
            exit_code=ExitCode.CONNECTIVITY,
        )
    median = sorted(timings)[len(timings) // 2]
    return Check(
        "graphql",
        "ok",
        f"GraphQL answers (Dagster {version}); median round trip {median:.1f} ms",
        data={"version": version, "median_ms": round(median, 2)},
    )


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
