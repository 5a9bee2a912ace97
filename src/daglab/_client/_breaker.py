"""A circuit breaker per endpoint: after repeated failures, calls fail fast for a cool-down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    def __init__(self, endpoint: str, retry_in: float) -> None:
        super().__init__(f"{endpoint} failed repeatedly; not retrying for {retry_in:.1f} s")
        self.endpoint = endpoint
        self.retry_in = retry_in


class CircuitBreaker:
    """Closed -> (``threshold`` consecutive failures) -> open -> (``cooldown``) -> half-open.

    In half-open one trial call goes through: success closes the circuit, failure reopens it.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        threshold: int = 5,
        cooldown: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        with self._lock:
            if self._state() == "open":
                assert self._opened_at is not None  # noqa: S101  type narrowing, an invariant
                raise CircuitOpen(self.endpoint, self.cooldown - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state() == "half-open" or self._failures >= self.threshold:
                self._opened_at = self._clock()


_breakers: dict[tuple[str, int, float], CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(endpoint: str, *, threshold: int = 5, cooldown: float = 15.0) -> CircuitBreaker:
    """The process-wide breaker of ``endpoint`` with these settings (``dagster.graphql.breaker_*``).

    Every client talking to the endpoint with the same settings shares it; a client configured
    otherwise gets its own, so the values a user sets are the values that apply.
    """
    key = (endpoint, threshold, cooldown)
    with _registry_lock:
        if key not in _breakers:
            _breakers[key] = CircuitBreaker(endpoint, threshold=threshold, cooldown=cooldown)
        return _breakers[key]
