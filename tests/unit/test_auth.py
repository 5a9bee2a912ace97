"""Which header carries the token, for each auth type and for Dagster+."""

from __future__ import annotations

import base64

import pytest

from daglab._auth import auth_headers
from daglab._config_models import AuthSettings, AuthType
from daglab._errors import AuthenticationError
from daglab._logging import redact

LOCAL = "http://localhost:3000"


def test_none_sends_nothing() -> None:
    assert auth_headers(AuthSettings(), LOCAL, environ={}) == {}


def test_bearer_from_the_named_variable() -> None:
    auth = AuthSettings(type=AuthType.BEARER, token_env="MY_TOKEN")
    headers = auth_headers(auth, LOCAL, environ={"MY_TOKEN": "abc-123-xyz"})
    assert headers == {"Authorization": "Bearer abc-123-xyz"}
    assert "abc-123-xyz" not in redact("sent abc-123-xyz")


def test_basic_encodes_user_and_password() -> None:
    auth = AuthSettings(type=AuthType.BASIC)
    headers = auth_headers(auth, LOCAL, token="ann:pw-9876")
    assert headers == {"Authorization": "Basic " + base64.b64encode(b"ann:pw-9876").decode()}
    assert "pw-9876" not in redact(str(headers))


def test_custom_header_carries_the_raw_token() -> None:
    auth = AuthSettings(type=AuthType.CUSTOM, header_name="X-Api-Key")
    assert auth_headers(auth, LOCAL, token="k-55555") == {"X-Api-Key": "k-55555"}


def test_flag_beats_the_environment() -> None:
    auth = AuthSettings(type=AuthType.BEARER)
    headers = auth_headers(auth, LOCAL, token="from-flag", environ={"DAGSTER_GRAPHQL_TOKEN": "env"})
    assert headers == {"Authorization": "Bearer from-flag"}


def test_dagster_plus_uses_its_own_header_whatever_the_type() -> None:
    url = "https://acme.dagster.cloud/prod"
    assert auth_headers(AuthSettings(), url, token="agent-1") == {
        "Dagster-Cloud-Api-Token": "agent-1"
    }


def test_a_missing_token_is_exit_6_with_the_variable_named() -> None:
    auth = AuthSettings(type=AuthType.BEARER, token_env="MY_TOKEN")
    with pytest.raises(AuthenticationError) as info:
        auth_headers(auth, LOCAL, environ={})
    assert info.value.exit_code == 6
    assert "MY_TOKEN" in info.value.remediation
