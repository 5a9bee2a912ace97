"""``SafeUrl``: an endpoint URL that never shows its credentials.

A URL may carry a password (``https://user:pw@host``) or a token in its query string
(``?token=…``, ``?api_key=…``, ``&sig=…``). ``SafeUrl`` renders itself with those parts masked
everywhere it can be shown — ``str()``, ``repr()``, f-strings, ``json.dumps(default=str)`` and
pydantic's JSON serialization — and hands the raw text out only through
:meth:`SafeUrl.get_secret_value`, which daglab calls only where a request is actually sent.
Constructing one registers its secret parts with the log redactor, so text that embeds the URL
by other means (an httpx exception, a traceback) is masked too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

MASK = "***"

#: Query (and fragment) keys whose values are credentials: token, access_token, api_key, sig…
_SECRET_KEY = re.compile(r"token|key|secret|pass|pwd|sig|credential|auth|session", re.I)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//")


def _mask_pairs(text: str, found: list[str]) -> str:
    """``a=1&token=x`` -> ``a=1&token=***``; the masked values are appended to ``found``."""
    parts = []
    for part in text.split("&"):
        key, eq, value = part.partition("=")
        if eq and value and _SECRET_KEY.search(unquote(key)):
            found += [value, unquote(value)]
            part = f"{key}={MASK}"
        parts.append(part)
    return "&".join(parts)


def _split_authority(raw: str) -> tuple[str, str, str, str]:
    """``(scheme://, userinfo, "@" or "", host and the rest)``; userinfo is empty without "@"."""
    match = _SCHEME.match(raw)
    head = match.group(0) if match else ""
    rest = raw[len(head) :]
    if not match:
        return head, "", "", rest
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    return head, userinfo, at, hostport + tail


def _render(raw: str) -> tuple[str, list[str]]:
    """The masked text of ``raw`` and the secret parts it masked."""
    found: list[str] = []
    head, userinfo, at, rest = _split_authority(raw)
    shown_user = ""
    if at:
        user, colon, password = userinfo.partition(":")
        if colon:
            found += [password, unquote(password)]
            shown_user = f"{user}:{MASK}@"
        else:  # a lone user part is often a token (https://<token>@host)
            found += [user, unquote(user)]
            shown_user = f"{MASK}@"
    before_fragment, hash_, fragment = rest.partition("#")
    path, question, query = before_fragment.partition("?")
    if question:
        query = _mask_pairs(query, found)
    if hash_:
        fragment = _mask_pairs(fragment, found)
    shown = f"{head}{shown_user}{path}{question}{query}{hash_}{fragment}"
    return shown, [part for part in found if part]


class SafeUrl:
    """A URL whose text form masks passwords and query-string tokens. Immutable, hashable."""

    __slots__ = ("_raw", "_shown")

    def __init__(self, raw: str | SafeUrl) -> None:
        from daglab._logging import register_secret

        if isinstance(raw, SafeUrl):
            raw = raw.get_secret_value()
        if not isinstance(raw, str):
            raise TypeError(f"SafeUrl takes a str, not {type(raw).__name__}")
        self._raw = raw
        self._shown, secrets = _render(raw)
        for secret in secrets:
            register_secret(secret)

    def get_secret_value(self) -> str:
        """The URL as given, credentials included: only for the code that sends the request."""
        return self._raw

    @property
    def has_credentials(self) -> bool:
        return self._shown != self._raw

    # -- the parts that are safe to show ------------------------------------------------------

    @property
    def scheme(self) -> str:
        return urlsplit(self._raw).scheme

    @property
    def hostname(self) -> str | None:
        return urlsplit(self._raw).hostname

    @property
    def port(self) -> int | None:
        """The explicit port, else the scheme's default (80/443); ``None`` if unknown."""
        parts = urlsplit(self._raw)
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)

    def join(self, path: str) -> SafeUrl:
        """This URL with ``/path`` appended to its path (query and fragment kept in place)."""
        parts = urlsplit(self._raw)
        new_path = parts.path.rstrip("/") + "/" + path.lstrip("/")
        return SafeUrl(parts._replace(path=new_path).geturl())

    # -- rendering: always masked ---------------------------------------------------------------

    def __str__(self) -> str:
        return self._shown

    def __repr__(self) -> str:
        return f"SafeUrl({self._shown!r})"

    def __format__(self, spec: str) -> str:
        return format(self._shown, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SafeUrl):
            return self._raw == other._raw
        if isinstance(other, str):
            return self._raw == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._raw)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SafeUrl, (self._raw,))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls._validate,
            json_schema_input_schema=core_schema.str_schema(),
            # Python-mode dumps keep the object (the config is re-validated from them);
            # JSON dumps, which people and files see, hold the masked text.
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"),
        )

    @classmethod
    def _validate(cls, value: Any) -> SafeUrl:
        if isinstance(value, (str, SafeUrl)):
            return cls(value)
        raise ValueError(f"must be a URL string, not {type(value).__name__}")
