"""The circuit breaker's threshold and cool-down come from ``dagster.graphql`` settings, and the
values a user sets are the ones that apply (against a real port where nothing listens)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from daglab._client import DagsterClient
from daglab._client._async import AsyncDagsterClient
from daglab._config import load_config
from daglab._config_models import DagsterSettings, GraphQLSettings
from daglab._errors import ConfigError, ConnectivityError


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(port: int, **graphql: object) -> DagsterSettings:
    return DagsterSettings(
        url=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        graphql=GraphQLSettings(max_retries=0, connect_timeout=1, **graphql),  # type: ignore[arg-type]
    )


def test_defaults_and_ranges() -> None:
    defaults = GraphQLSettings()
    assert (defaults.breaker_threshold, defaults.breaker_cooldown_seconds) == (5, 15.0)
    for bad in ({"breaker_threshold": 0}, {"breaker_cooldown_seconds": 0}):
        with pytest.raises(ValueError):
            GraphQLSettings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        GraphQLSettings(breaker_cooldown_seconds=86400)


def test_values_come_from_daglab_yaml_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "daglab.yaml").write_text(
        "dagster:\n  graphql:\n    breaker_threshold: 2\n    breaker_cooldown_seconds: 0.5\n"
    )
    loaded = load_config(start=tmp_path)
    client = DagsterClient.from_config(loaded)
    assert (client._breaker.threshold, client._breaker.cooldown) == (2, 0.5)
    monkeypatch.setenv("DAGLAB_DAGSTER__GRAPHQL__BREAKER_THRESHOLD", "7")
    assert load_config(start=tmp_path).config.dagster.graphql.breaker_threshold == 7
    monkeypatch.setenv("DAGLAB_DAGSTER__GRAPHQL__BREAKER_THRESHOLD", "0")
    with pytest.raises(ConfigError):
        load_config(start=tmp_path)


def test_configured_threshold_and_cooldown_take_effect() -> None:
    port = closed_port()
    client = DagsterClient(settings(port, breaker_threshold=2, breaker_cooldown_seconds=1.0))
    for _ in range(2):  # each a refused connection: a failure of the endpoint
        with pytest.raises(ConnectivityError, match="cannot reach"):
            client.version()
    started = time.monotonic()
    with pytest.raises(ConnectivityError, match="failed repeatedly") as opened:
        client.version()
    assert time.monotonic() - started < 0.5, "an open circuit fails fast"
    assert "not retrying for" in opened.value.message
    # The async client is the same client underneath: the same breaker, open.
    assert AsyncDagsterClient(client).sync._breaker is client._breaker
    assert client._breaker.state == "open"
    time.sleep(1.05)
    assert client._breaker.state == "half-open"
    with pytest.raises(ConnectivityError, match="cannot reach"):
        client.version()  # the one trial call goes through, fails, and reopens the circuit
    assert client._breaker.state == "open"


def test_default_threshold_is_five_and_other_settings_get_their_own_breaker() -> None:
    port = closed_port()
    default = DagsterClient(settings(port))
    strict = DagsterClient(settings(port, breaker_threshold=1))
    assert default._breaker is not strict._breaker
    assert DagsterClient(settings(port))._breaker is default._breaker
    with pytest.raises(ConnectivityError, match="cannot reach"):
        strict.version()
    with pytest.raises(ConnectivityError, match="failed repeatedly"):
        strict.version()
    for _ in range(5):
        with pytest.raises(ConnectivityError, match="cannot reach"):
            default.version()
    with pytest.raises(ConnectivityError, match="failed repeatedly"):
        default.version()
