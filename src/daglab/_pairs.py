"""``KEY=VALUE`` command-line values (``--tag``, ``--tags``, ``--ports``), parsed one way."""

from __future__ import annotations

from collections.abc import Iterable

from daglab._errors import UsageError


def split_pairs(values: Iterable[str], *, flag: str, example: str) -> list[tuple[str, str]]:
    """``["a=1", "b = x"]`` -> ``[("a", "1"), ("b", "x")]``; a missing ``=`` or key is a
    usage error naming ``flag`` with ``example`` as the remedy."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{flag} {value!r} is not KEY=VALUE", remediation=f"Example: {flag} {example}"
            )
        pairs.append((key.strip(), rest.strip()))
    return pairs
