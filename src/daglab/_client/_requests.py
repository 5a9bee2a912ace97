"""The one request path of :class:`~daglab._client.DagsterClient`: sandbox, circuit breaker,
retries (``Retry-After`` included), the audit trail, and the classification of answers.

Mutations are retried only when the request provably never left this machine, or the server
answered 429 (refused before handling it), so a launch is never duplicated by a retry. A
``Retry-After`` on 429 and 503 sets the pause before the next attempt, within the operation's
budget. Each mutation and each sandbox refusal is written to the audit trail
(:mod:`daglab._client._audit`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from daglab._client import _audit
from daglab._client._breaker import CircuitBreaker, CircuitOpen
from daglab._client._documents import OPERATIONS, operation_named
from daglab._client._retries import (
    RETRY_AFTER_STATUSES,
    _install_retry_logging,
    _Transient,
    retry_after_seconds,
)
from daglab._client._transport import HttpxTransport, Response, Transport, TransportError
from daglab._errors import AuthenticationError, ConnectivityError, ValidationError
from daglab._logging import get_logger

if TYPE_CHECKING:
    from pathlib import Path

    from daglab._config_models import DagsterSettings
    from daglab._url import SafeUrl

log = get_logger("client")


class RequestPath:
    """Every request of the client goes through here; the client's ``__init__`` sets the state."""

    settings: DagsterSettings
    base_url: SafeUrl
    graphql_url: SafeUrl
    headers: dict[str, str]
    sandbox: bool
    allowed_operations: frozenset[str]
    launched_by: str
    #: Where the project whose history records the audit trail is (None: the working folder).
    history_root: Path | None
    _transport: Transport | None
    _transport_lock: threading.Lock
    _breaker: CircuitBreaker

    @property
    def transport(self) -> Transport:
        with self._transport_lock:  # threads (and to_thread calls) share one connection pool
            if self._transport is None:
                self._transport = HttpxTransport(
                    tls=self.graphql_url.scheme == "https",
                    connect_timeout=self.settings.graphql.connect_timeout,
                )
            return self._transport

    def close(self) -> None:
        """Release the connections; a later call opens new ones (shared clients stay usable)."""
        with self._transport_lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def check_allowed(self, operation: str) -> None:
        """The sandbox: mutations run only when listed in ``security.allowed_operations``.

        A refusal is written to the audit trail.
        """
        op = operation_named(operation)
        if self.sandbox and op.mutation and op.name not in self.allowed_operations:
            self._audit(op.name, {}, _audit.REFUSED)
            raise AuthenticationError(
                f"sandbox mode refuses {op.name}: it changes Dagster and is not in"
                " security.allowed_operations",
                remediation=f"Add {op.name} to security.allowed_operations, or run without"
                " --sandbox / security.sandbox_mode.",
            )

    def _request(
        self,
        operation: str,
        url: SafeUrl,
        payload: dict[str, Any],
        answer: Callable[[str, Response], Any],
        *,
        budget: float | None = None,
    ) -> Any:
        """Sandbox check, then POST with retries for transient failures; ``answer`` reads it.

        The whole call, retries included, stays within ``budget`` seconds: each attempt waits
        at most what is left of it, and a ``Retry-After`` longer than what is left ends the
        retries at once. A mutation goes to the audit trail, whatever its outcome.
        """
        self.check_allowed(operation)
        op = operation_named(operation)
        if not op.mutation:
            return self._attempts(operation, url, payload, answer, budget=budget)
        variables = payload.get("variables", payload)
        try:
            data = self._attempts(operation, url, payload, answer, budget=budget)
        except Exception as exc:
            self._audit(op.name, variables, _audit.error(exc))
            raise
        self._audit(op.name, variables, _audit.outcome_of(data), _audit.subject_of(variables, data))
        return data

    def _audit(
        self, operation: str, variables: Any, outcome: str, run_id: str | None = None
    ) -> None:
        """One event of the audit trail, on behalf of whoever this client launches for."""
        _audit.record(
            origin=self.launched_by,
            operation=operation,
            variables=variables,
            outcome=outcome,
            run_id=run_id,
            start=self.history_root,
        )

    def _attempts(
        self,
        operation: str,
        url: SafeUrl,
        payload: dict[str, Any],
        answer: Callable[[str, Response], Any],
        *,
        budget: float | None,
    ) -> Any:
        """The POST and its retries (see :meth:`_request`)."""
        import stamina  # defer for import performance

        _install_retry_logging()
        op = operation_named(operation)
        graphql = self.settings.graphql
        budget = graphql.retry_budget_seconds if budget is None else budget
        started = time.monotonic()

        def retryable(exc: Exception) -> bool | float:
            if not isinstance(exc, _Transient):
                return False
            if op.mutation and exc.sent and not exc.unhandled:
                return False  # it may have been handled: a retry could launch twice
            if exc.retry_after is None:
                return True
            if exc.retry_after > budget - (time.monotonic() - started):
                exc.beyond_budget = True
                return False
            return exc.retry_after

        attempts = 0
        try:
            for attempt in stamina.retry_context(
                on=retryable,
                attempts=graphql.max_retries + 1,
                timeout=budget,
                wait_initial=0.2,
                wait_max=5.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    attempts += 1
                    left = budget - (time.monotonic() - started)
                    timeout = max(0.5, min(graphql.timeout, left))
                    return answer(operation, self._send(operation, url, payload, timeout))
        except _Transient as exc:
            waited = time.monotonic() - started
            asked = (
                f"; it asked to retry after {exc.retry_after:g} s, beyond the budget"
                if exc.beyond_budget and exc.retry_after is not None
                else ""
            )
            raise ConnectivityError(
                f"cannot reach the Dagster webserver at {self.base_url}: {exc}"
                f" (gave up on {op.name} after {waited:.1f} s,"
                f" {attempts} attempt(s); budget {budget:g} s{asked})",
                remediation="Start it with `daglab dev` or `dagster dev`, or check"
                " dagster.url / dagster.host / dagster.port; dagster.graphql.timeout and"
                " dagster.graphql.retry_budget_seconds bound the wait.",
                endpoint=url,
                waited_seconds=round(waited, 1),
                attempts=attempts,
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, operation: str, url: SafeUrl, payload: dict[str, Any], timeout: float
    ) -> Response:
        """One POST through the breaker; credentials refused raise at once."""
        try:
            self._breaker.before_call()
        except CircuitOpen as exc:
            raise ConnectivityError(
                f"{exc}", remediation="Start the webserver, then try again in a few seconds."
            ) from exc
        started = time.perf_counter()
        try:
            response = self.transport.post_json(url, payload, headers=self.headers, timeout=timeout)
        except TransportError as exc:
            self._breaker.record_failure()
            log.debug("%s failed: %s", operation, exc)
            raise _Transient(str(exc), sent=exc.sent) from exc
        log.debug(
            "%s -> HTTP %s in %.1f ms",
            operation,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        if response.status in (401, 403):
            self._breaker.record_success()  # the server is up; our credentials are not
            raise AuthenticationError(
                f"{self.base_url} refused the credentials (HTTP {response.status})",
                remediation="Check the token in the variable named by dagster.auth.token_env"
                " (or --auth-token) and dagster.auth.type.",
            )
        return response

    def _unexpected(self, url: SafeUrl, response: Response) -> Exception:
        """An answer that is not the endpoint's: a transient 5xx, or the wrong URL."""
        retry_after = None
        if response.status in RETRY_AFTER_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if response.status == 429:
            # The server is up and refused the request before handling it: not a failure of
            # the endpoint, and safe to send again, mutations included.
            return _Transient(
                f"HTTP 429 from {url}", sent=True, unhandled=True, retry_after=retry_after
            )
        if response.status >= 500 or response.status == 408:
            self._breaker.record_failure()
            return _Transient(
                f"HTTP {response.status} from {url}", sent=True, retry_after=retry_after
            )
        self._breaker.record_success()
        return ConnectivityError(
            f"{url} did not answer like a Dagster webserver"
            f" (HTTP {response.status}: {response.text[:200]!r})",
            remediation="Check dagster.url and dagster.path_prefix; is Dagster recent enough?",
            http_status=response.status,
        )

    def _graphql_answer(self, operation: str, response: Response) -> Any:
        body = response.body
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise self._unexpected(self.graphql_url, response)
        self._breaker.record_success()
        if body.get("errors") and not body.get("data"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise ValidationError(
                f"Dagster rejected the {OPERATIONS[operation].name} request: {messages}",
                remediation="Check the names and values given; `daglab discover` lists them.",
            )
        return body.get("data") or {}

    def _rest_answer(self, operation: str, response: Response) -> Any:
        body = response.body
        if not isinstance(body, dict):
            raise self._unexpected(self.base_url, response)
        self._breaker.record_success()
        if response.status >= 400 or body.get("error"):
            raise ValidationError(
                f"Dagster refused {operation_named(operation).name}:"
                f" {body.get('error') or response.status}",
                remediation="Check the asset key and the metadata values.",
                http_status=response.status,
            )
        return body
