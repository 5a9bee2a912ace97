"""``--since``: a relative age (``7d``) or a date, as a timestamp; and back again."""

from __future__ import annotations

import re
import time
from datetime import datetime

from daglab._errors import UsageError

SINCE_EXAMPLES = "--since 7d, --since 24h, --since 2026-11-01, --since 2026-11-01T09:30"
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# -- --since ------------------------------------------------------------------------------------


def parse_since(text: str, *, now: float | None = None) -> float:
    """A POSIX timestamp from ``7d``/``24h``/``30m``/``2w`` or an ISO date or date-time.

    A date or date-time without a UTC offset is local time; ``Z`` means UTC.
    """
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        return (time.time() if now is None else now) - amount * _UNIT_SECONDS[unit]
    iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        moment = None
    if moment is None or not value:
        raise UsageError(
            f"--since {text!r} is neither a date, a date-time nor a relative time",
            remediation=f"Examples: {SINCE_EXAMPLES} (m, h, d and w count back from now).",
        )
    return moment.timestamp()  # naive: local time


def iso(timestamp: float | None) -> str | None:
    """A timestamp as local ISO 8601 with its offset, to the second."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def since_label(timestamp: float) -> str:
    """``2026-11-01`` at local midnight, else ``2026-11-01 09:30``."""
    moment = datetime.fromtimestamp(timestamp)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")
