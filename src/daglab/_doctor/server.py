"""Checks of the Dagster webserver: reachable, its GraphQL endpoint, and every code location it
serves (one that failed to load is a critical failure)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from daglab._doctor.report import Check
from daglab._errors import DaglabError, ExitCode
from daglab._host import port_open
from daglab._logging import get_logger

if TYPE_CHECKING:
    from daglab._url import SafeUrl


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
        graphql = _probe_graphql(http, dagster.graphql_url, log)
        checks.append(graphql)
    if graphql.status == "ok":
        checks += check_code_locations(loaded)
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


#: How many lines of a location's error the summary shows; ``--json`` carries all of it.
ERROR_LINES = 6


def check_code_locations(loaded: Any) -> list[Check]:
    """One check per code location the webserver serves; a location that failed to load is a
    critical failure that shows the first lines of Dagster's error (all of it under ``data``)."""
    from daglab._client import DagsterClient

    try:
        with DagsterClient.from_config(loaded, launched_by="doctor") as client:
            locations = client.discover().locations
    except DaglabError as exc:
        return [
            Check(
                "code_locations",
                "warn",
                f"could not list the code locations: {exc.message}",
                remediation=exc.remediation,
            )
        ]
    if not locations:
        return [
            Check(
                "code_locations",
                "warn",
                "the webserver serves no code location",
                remediation="Start `dagster dev` (or `dg dev`) from the project's folder, or add"
                " the project's code to its workspace.",
            )
        ]
    checks = []
    for location in locations:
        name = f"code_location:{location.name}"
        data: dict[str, Any] = {"location": location.name, "load_status": location.load_status}
        if location.failed:
            error = location.error or ""
            # the root cause says what is wrong; Dagster's own message says where it loaded
            lines = (location.causes[-1] if location.causes else error).strip().splitlines()
            shown = "\n".join(line.rstrip() for line in lines[:ERROR_LINES])
            if len(error.strip().splitlines()) > min(len(lines), ERROR_LINES):
                shown += "\n… (the whole error and its traceback: `daglab doctor --json`)"
            checks.append(
                Check(
                    name,
                    "fail",
                    f"code location {location.name!r} failed to load:\n{shown}",
                    remediation=f"Fix the error in {location.name}'s code (often an import or a"
                    " missing package), then reload the location in the Dagster UI"
                    " (Deployment → Reload) or restart `dagster dev`; its whole error is in the"
                    " `dagster dev` log and in `daglab discover --json`.",
                    critical=True,
                    exit_code=ExitCode.ENVIRONMENT,
                    data={**data, "error": error},
                )
            )
        elif location.load_status == "LOADED":
            repos = ", ".join(location.repositories) or "no repository"
            checks.append(
                Check(name, "ok", f"code location {location.name!r} loaded ({repos})", data=data)
            )
        else:
            checks.append(
                Check(
                    name,
                    "warn",
                    f"code location {location.name!r} is {location.load_status.lower()}",
                    remediation="Wait for it to load, then run `daglab doctor` again.",
                    data=data,
                )
            )
    return checks
