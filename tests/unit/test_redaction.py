"""No credential in a URL is ever shown: SafeUrl's renderings, the log redactor, error messages."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from daglab._config_models import DagsterSettings
from daglab._logging import (
    MASK,
    RedactingFormatter,
    clear_secrets,
    redact,
    register_secret,
    register_secrets_from_env,
)
from daglab._url import SafeUrl


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HOSTS = st.sampled_from(["127.0.0.1", "example.com", "acme.dagster.cloud", "[::1]"])
# Printable text with the characters that need percent-encoding in a URL.
SECRET_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=24,
)
TOKEN_KEYS = st.sampled_from(["token", "access_token", "api_key", "sig", "X-Amz-Signature"])


@st.composite
def credentialed_urls(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """``(raw URL, expected masked text, secrets)`` with userinfo and/or a query token."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(HOSTS)
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    path = draw(st.sampled_from(["", "/prod", "/a/b"]))
    user = draw(st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True))
    password = draw(st.one_of(st.none(), SECRET_TEXT))
    token_key = draw(st.one_of(st.none(), TOKEN_KEYS))
    token = draw(SECRET_TEXT)
    assume(password is not None or token_key is not None)
    hostport = host + (f":{port}" if port else "")
    raw_userinfo = f"{user}:{quote(password, safe='')}@" if password is not None else ""
    shown_userinfo = f"{user}:{MASK}@" if password is not None else ""
    raw_query = f"?page=2&{token_key}={quote(token, safe='')}" if token_key else ""
    shown_query = f"?page=2&{token_key}={MASK}" if token_key else ""
    raw = f"{scheme}://{raw_userinfo}{hostport}{path}{raw_query}"
    shown = f"{scheme}://{shown_userinfo}{hostport}{path}{shown_query}"
    secrets = []
    if password is not None:
        secrets += [password, quote(password, safe="")]
    if token_key:
        secrets += [token, quote(token, safe="")]
    return raw, shown, secrets


def visible(shown: str, secrets: list[str]) -> None:
    """Skip the rare example whose secret is a substring of the URL's visible parts."""
    assume(all(secret not in shown and secret not in MASK for secret in secrets))


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(credentialed_urls())
def test_safe_url_renders_without_its_credentials(case: tuple[str, str, list[str]]) -> None:
    raw, shown, secrets = case
    url = SafeUrl(raw)
    assert str(url) == shown
    assert f"{url}" == shown
    assert f"{url:>5}" == shown
    assert repr(url) == f"SafeUrl({shown!r})"
    assert url.get_secret_value() == raw
    settings_json = DagsterSettings(url=raw).model_dump_json()  # type: ignore[arg-type]
    renderings = [
        str(url),
        repr(url),
        json.dumps({"url": url}, default=str),
        settings_json,
        str(url.join("graphql")),
        repr(DagsterSettings(url=raw)),  # type: ignore[arg-type]
    ]
    visible(" ".join(renderings), secrets)
    for text in renderings:
        for secret in secrets:
            assert secret not in text, (secret, text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
@given(credentialed_urls())
def test_text_that_embeds_the_raw_url_is_masked_once_the_url_was_seen(
    case: tuple[str, str, list[str]],
) -> None:
    """An httpx exception or traceback quoting the raw URL: the log formatter masks it."""
    raw, shown, secrets = case
    SafeUrl(raw)  # what loading dagster.url or --url does
    record = logging.LogRecord(
        "daglab.client",
        logging.INFO,
        __file__,
        1,
        "retry 1 after: %s",
        (f"GET {raw} failed",),
        None,
    )
    out = RedactingFormatter("%(message)s").format(record)
    visible(f"retry 1 after: GET {shown} failed", secrets)
    for secret in secrets:
        assert secret not in out, (secret, out)
    clear_secrets()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(credentialed_urls())
def test_connection_error_messages_never_hold_the_credentials(
    case: tuple[str, str, list[str]],
) -> None:
    """The real client against a closed port: the ConnectivityError daglab prints, in full."""
    from daglab._client import DagsterClient
    from daglab._errors import ConnectivityError

    raw, shown, secrets = case
    port = closed_port()
    rest = raw.split("://", 1)[1]
    userinfo = rest.rpartition("@")[0] + "@" if "@" in rest.split("/")[0] else ""
    query = rest[rest.index("?") :] if "?" in rest else ""
    local = f"http://{userinfo}127.0.0.1:{port}{query}"
    settings_ = DagsterSettings(url=local, graphql={"max_retries": 0})  # type: ignore[arg-type]
    with DagsterClient(settings_) as client, pytest.raises(ConnectivityError) as caught:
        client.execute("version")
    texts = [caught.value.message, json.dumps(caught.value.to_dict(), default=str)]
    texts += [redact(str(caught.value.__cause__)), redact(repr(caught.value.__cause__))]
    visible(" ".join(texts) + shown, secrets)
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)


def test_a_lone_user_part_is_masked_as_a_token() -> None:
    url = SafeUrl("https://ghp_abcdef@example.com/x")
    assert str(url) == "https://***@example.com/x"
    assert "ghp_abcdef" not in redact("cloning https://ghp_abcdef@example.com/x")


def test_fragment_tokens_and_ordinary_query_values() -> None:
    url = SafeUrl("https://h/cb?page=2&next=/a#access_token=xyz&state=ok")
    assert str(url) == "https://h/cb?page=2&next=/a#access_token=***&state=ok"
    assert not SafeUrl("http://localhost:3000/prod").has_credentials


def test_signature_query_values_are_masked_in_endpoint_urls() -> None:
    url = SafeUrl("https://h/x?sig=q1w2&X-Amz-Signature=e3r4&X-Amz-Credential=AK%2F1")
    assert str(url) == "https://h/x?sig=***&X-Amz-Signature=***&X-Amz-Credential=***"
    assert "q1w2" not in redact("retry after GET https://h/x?sig=q1w2 failed")


def test_a_shared_signed_url_is_printed_whole() -> None:
    """`export --upload` prints a presigned URL for people to share: it must stay usable."""
    signed = "https://b.s3.amazonaws.com/nb.html?X-Amz-Credential=AK%2F1&X-Amz-Signature=e3r4"
    assert redact(f"signed URL: {signed}") == f"signed URL: {signed}"


def test_join_keeps_the_query_after_the_path() -> None:
    url = SafeUrl("https://u:pw@h/prefix/?token=t0k")
    joined = url.join("graphql")
    assert joined.get_secret_value() == "https://u:pw@h/prefix/graphql?token=t0k"
    assert str(joined) == "https://u:***@h/prefix/graphql?token=***"


def test_python_dumps_keep_the_url_and_json_dumps_mask_it() -> None:
    settings_ = DagsterSettings(url="http://u:pw@h:1")  # type: ignore[arg-type]
    assert DagsterSettings.model_validate(settings_.model_dump()).url == "http://u:pw@h:1"
    assert settings_.model_dump(mode="json")["url"] == "http://u:***@h:1"


def test_a_rejected_url_is_not_echoed() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        DagsterSettings(url="ftp://u:hunter2@h")  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)


# -- the redactor: precise, not greedy ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "usage: daglab run --no-token --host example",
        "no job named 'basic thing' on http://localhost:3000",
        "Bearer tokens expire after an hour",
        "max_tokens=5 tokenizer=bpe",
        "dagster.auth.token_env: DAGSTER_GRAPHQL_TOKEN",
        "secret_name: prod, password_env: PW_VAR",
        "design=1 keyboard=qwerty",
        "Basic set-up done; Token budget 12",
        "run 42 launched on port 3000",
    ],
)
def test_ordinary_words_are_not_masked(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer tok_abc123", "tok_abc123"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("url?access_token=abcd1234&x=1", "abcd1234"),
        ("Dagster-Cloud-Api-Token: user:abcd1234", "abcd1234"),
        ('password = "hunter22"', "hunter22"),
        ("token=ab", "ab"),
        ("see http://me:p4@h:1/x", "p4"),
    ],
)
def test_credential_shapes_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert MASK in masked


def test_short_registered_secrets_are_masked_where_they_stand_alone() -> None:
    register_secret("x7z")  # a three-character token used to be printed as is
    assert redact("sent token x7z to h") == "sent token *** to h"
    assert redact("Bearer x7z, user:x7z@h") == "Bearer ***, user:***@h"
    assert redact("x7zebra ax7z x7z1") == "x7zebra ax7z x7z1"


def test_a_one_character_secret_is_masked_without_eating_numbers() -> None:
    register_secret("7")
    assert redact("the token is 7.") == "the token is ***."
    assert redact("exit 17 after 70 s") == "exit 17 after 70 s"


def test_long_secrets_are_masked_anywhere() -> None:
    register_secret("s3cr3t-value-42")
    assert redact("xs3cr3t-value-42y") == "x***y"


def test_env_flags_named_like_secrets_are_not_registered_when_tiny() -> None:
    register_secrets_from_env({"PIP_NO_PASSWORD": "1", "MY_TOKEN": "abcd"})
    assert redact("1 abcd") == "1 ***"
    register_secrets_from_env({"DAGSTER_GRAPHQL_TOKEN": "q"}, ["DAGSTER_GRAPHQL_TOKEN"])
    assert redact("token q here") == "token *** here"


def test_a_three_character_token_never_reaches_the_log() -> None:
    from daglab._auth import auth_headers
    from daglab._config_models import AuthSettings, AuthType

    auth = AuthSettings(type=AuthType.CUSTOM, header_name="X-Key")
    headers = auth_headers(auth, "http://h", token="k9q")
    record = logging.LogRecord("daglab", logging.DEBUG, __file__, 1, "headers=%s", (headers,), None)
    assert "k9q" not in RedactingFormatter("%(message)s").format(record)
