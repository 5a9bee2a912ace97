"""Whether the webserver answers *now*, so ``daglab scaffold`` falls back to the code at once.

Scaffolding checks its target against the running webserver when there is one. A webserver that
is down refuses the connection and the fallback is immediate; one that accepts connections but
does not answer (stopped with SIGSTOP, hung, or still starting) would hold the check for the
whole GraphQL timeout (30 s by default). One short request decides first.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daglab._config import LoadedConfig
    from daglab._config_models import DagsterSettings

#: Seconds the webserver has to answer before scaffold uses the project's code instead.
PROBE_SECONDS = 2.0


def answers_now(
    settings: DagsterSettings, *, token: str | None = None, timeout: float = PROBE_SECONDS
) -> bool:
    """True when ``/server_info`` answers (any HTTP status) within ``timeout`` seconds."""
    import httpx  # defer for import performance

    from daglab._auth import auth_headers
    from daglab._errors import DaglabError

    try:
        headers = auth_headers(settings.auth, settings.base_url, token=token)
    except DaglabError:
        return True  # a credential problem: let the real request report it
    url = settings.base_url.join("server_info").get_secret_value()
    try:
        with httpx.Client(timeout=timeout, headers=headers) as http:
            http.get(url)
    except httpx.HTTPError:
        return False
    return True


def for_scaffold(
    loaded: LoadedConfig, *, token: str | None = None, timeout: float = PROBE_SECONDS
) -> LoadedConfig:
    """``loaded`` as is when the webserver answers now; else with GraphQL timeouts of
    ``timeout`` seconds, so scaffold's own check gives up as fast and the code is used."""
    dagster = loaded.config.dagster
    if answers_now(dagster, token=token, timeout=timeout):
        return loaded
    graphql = dagster.graphql.model_copy(
        update={"timeout": timeout, "connect_timeout": timeout, "max_retries": 0}
    )
    config = loaded.config.model_copy(
        update={"dagster": dagster.model_copy(update={"graphql": graphql})}
    )
    return dataclasses.replace(loaded, config=config)
