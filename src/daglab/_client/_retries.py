"""Which failures the client retries, and how long the server asks it to wait (``Retry-After``)."""

from __future__ import annotations

import time
from typing import Any

from daglab._logging import get_logger

log = get_logger("client")


def _log_retry(details: Any) -> None:
    log.info("retry %d in %.2f s after: %s", details.retry_num, details.wait_for, details.caused_by)


_retry_logging_installed = False


def _install_retry_logging() -> None:
    """Retries are reported through daglab's logger (redacted), not stamina's structlog."""
    global _retry_logging_installed
    if not _retry_logging_installed:
        import stamina.instrumentation  # defer for import performance

        stamina.instrumentation.set_on_retry_hooks([_log_retry])
        _retry_logging_installed = True


class _Transient(Exception):
    """A failure worth retrying: connection refused, timeout, 5xx without a GraphQL answer.

    ``sent`` is False when the request never left; ``unhandled`` when the server said it did not
    handle it (429). ``retry_after`` is the pause the server asked for, in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        sent: bool,
        unhandled: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.sent = sent
        self.unhandled = unhandled
        self.retry_after = retry_after
        #: Set when the pause asked for is longer than what is left of the budget.
        self.beyond_budget = False


#: Statuses whose ``Retry-After`` daglab honours.
RETRY_AFTER_STATUSES = (429, 503)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """The pause a ``Retry-After`` header asks for: delay-seconds or an HTTP-date; else None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        import datetime as dt

        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
