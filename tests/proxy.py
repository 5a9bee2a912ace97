"""A small reverse proxy in front of the real webserver, for what Dagster OSS cannot do itself.

- ``token``: demand ``Authorization: Bearer <token>`` and answer 401 otherwise (Dagster OSS has
  no auth of its own);
- ``down()`` / ``up()``: stop and restart listening on the same port, so a client sees the
  webserver vanish and come back while the runs behind it go on;
- ``fail_status``: answer every request, before the token check, with this status and a body
  that echoes the request's headers, credentials included (a server whose error page leaks them).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HOP_BY_HOP = {"host", "authorization", "content-length", "connection", "transfer-encoding"}


def _operation_name(body: bytes | None) -> str:
    """``DaglabLaunchRun`` for a body whose document starts ``mutation DaglabLaunchRun(...``."""
    import json
    import re

    try:
        query = json.loads(body or b"{}").get("query") or ""
    except ValueError:
        return ""
    found = re.match(r"\s*(?:query|mutation)\s+(\w+)", query)
    return found.group(1) if found else ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _forward(self, method: str) -> None:
        proxy = self.server.proxy
        proxy.requests += 1
        if proxy.fail_status is not None:
            echoed = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
            self._reply(proxy.fail_status, f"Internal error\n{echoed}".encode(), "text/plain")
            return
        if proxy.token is not None and self.headers.get("Authorization") != f"Bearer {proxy.token}":
            self._reply(401, b'{"message": "missing or wrong bearer token"}', "application/json")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        proxy.operations.append(_operation_name(body))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = proxy.client.request(
            method, proxy.upstream + self.path, content=body, headers=headers
        )
        self._reply(
            answer.status_code,
            answer.content,
            answer.headers.get("content-type", "application/json"),
        )

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: Proxy


class Proxy:
    def __init__(self, upstream: str, *, token: str | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.token = token
        self.requests = 0
        self.fail_status: int | None = None
        #: The GraphQL operation name of every request that got past the token check, in order
        #: ("" for one without a document, such as a REST call).
        self.operations: list[str] = []
        self.client = httpx.Client(timeout=60)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.proxy = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None

    def close(self) -> None:
        self.down()
        self.client.close()
