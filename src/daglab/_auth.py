"""Credentials for the Dagster webserver: where the token comes from and which header carries it.

The token is read from ``--auth-token`` or the environment variable named by
``dagster.auth.token_env``; it is registered for redaction the moment it is read.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from daglab._config_models import AuthSettings, AuthType
from daglab._errors import AuthenticationError
from daglab._logging import register_secret

if TYPE_CHECKING:
    from daglab._url import SafeUrl

DAGSTER_CLOUD_HEADER = "Dagster-Cloud-Api-Token"


def is_dagster_plus(url: SafeUrl | str) -> bool:
    host = (url.hostname if not isinstance(url, str) else urlsplit(url).hostname) or ""
    return host.endswith((".dagster.cloud", ".dagster.plus"))


def resolve_token(
    auth: AuthSettings, *, token: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    environ = os.environ if environ is None else environ
    value = token or environ.get(auth.token_env) or None
    register_secret(value)
    return value


def auth_headers(
    auth: AuthSettings,
    base_url: SafeUrl | str,
    *,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers to send; empty for ``type: none`` without a Dagster+ endpoint."""
    value = resolve_token(auth, token=token, environ=environ)
    if is_dagster_plus(base_url) and value:
        return {DAGSTER_CLOUD_HEADER: value}
    if auth.type is AuthType.NONE:
        return {}
    if not value:
        raise AuthenticationError(
            f"dagster.auth.type is {auth.type.value} but no token was given",
            remediation=f"export {auth.token_env}=<token>, or pass --auth-token.",
        )
    if auth.type is AuthType.BEARER:
        return {auth.header_name: f"Bearer {value}"}
    if auth.type is AuthType.BASIC:
        encoded = base64.b64encode(value.encode()).decode()
        register_secret(encoded)
        return {auth.header_name: f"Basic {encoded}"}
    return {auth.header_name: value}
