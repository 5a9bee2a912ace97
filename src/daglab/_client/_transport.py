"""The HTTP seam: the only code that touches httpx, so another transport can replace it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from daglab._url import SafeUrl


#: The answer headers a :class:`Response` keeps (never a cookie or anything else credential-like).
KEPT_HEADERS = ("retry-after",)


class TransportError(Exception):
    """The request did not get an HTTP answer. ``sent`` is False when it never left."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the parsed JSON, or None when the body is not JSON
    text: str
    #: The answer's headers, names in lower case (``retry-after`` is the one daglab reads).
    headers: Mapping[str, str] = field(default_factory=dict)


class Transport(Protocol):
    """``url`` is a :class:`SafeUrl`: messages show it masked; only the send reveals it."""

    def post_json(
        self, url: SafeUrl, payload: dict[str, Any], *, headers: dict[str, str], timeout: float
    ) -> Response: ...

    def close(self) -> None: ...


class HttpxTransport:
    """POST JSON with httpx; the JSON body is parsed whatever the status code."""

    def __init__(self, *, tls: bool = True, connect_timeout: float = 5.0) -> None:
        import httpx  # defer for import performance

        self._httpx = httpx
        self._connect_timeout = connect_timeout
        # Loading the CA bundle costs ~0.1 s; a plain-http endpoint never needs it.
        self._client = httpx.Client(follow_redirects=False, verify=tls)

    def post_json(
        self, url: SafeUrl, payload: dict[str, Any], *, headers: dict[str, str], timeout: float
    ) -> Response:
        httpx = self._httpx
        # The webserver wants exactly this content type; httpx would add nothing else either.
        body = json.dumps(payload).encode()
        try:
            answer = self._client.post(
                url.get_secret_value(),  # the one place the credentials in a URL are used
                content=body,
                headers={"Content-Type": "application/json", **headers},
                # ``timeout`` bounds the wait for an answer; connecting has its own, shorter one.
                timeout=httpx.Timeout(timeout, connect=min(self._connect_timeout, timeout)),
            )
        except httpx.ConnectError as exc:
            raise TransportError(f"cannot connect to {url}: {exc}", sent=False) from exc
        except httpx.ConnectTimeout as exc:
            raise TransportError(
                f"no connection to {url} within {min(self._connect_timeout, timeout):g} s",
                sent=False,
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransportError(f"no answer from {url} within {timeout:.3g} s", sent=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"HTTP request to {url} failed: {exc}", sent=True) from exc
        try:
            parsed = answer.json()
        except ValueError:
            parsed = None
        wanted = {name: answer.headers[name] for name in KEPT_HEADERS if name in answer.headers}
        return Response(answer.status_code, parsed, answer.text, wanted)

    def close(self) -> None:
        self._client.close()
