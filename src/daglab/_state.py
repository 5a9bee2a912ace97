"""``NotebookState``: values shared across a notebook's cells, with a history of every change."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StateChange:
    """One change: ``key`` went from ``old`` to ``new`` at ``at`` (epoch seconds)."""

    key: str
    old: Any
    new: Any
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new, "at": self.at}


_MISSING = object()


class NotebookState(Mapping[str, Any]):
    """A mapping cells read and update; ``reset`` returns to the initial values.

    Values are copied in and out of the initial snapshot, so mutating a list taken from the
    state before ``reset`` cannot change what ``reset`` restores. Safe to use from the threads
    a notebook kernel runs callbacks on.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None, *, history_limit: int = 1000):
        self._initial = copy.deepcopy(dict(initial or {}))
        self._values = copy.deepcopy(self._initial)
        self._history: list[StateChange] = []
        self._history_limit = history_limit
        self._lock = threading.RLock()

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            return self._values[key]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._values))

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __repr__(self) -> str:
        with self._lock:
            return f"NotebookState({self._values!r})"

    def update(self, key: str, value: Any) -> None:
        """Set ``key`` and record the change."""
        with self._lock:
            old = self._values.get(key, _MISSING)
            self._values[key] = value
            self._record(key, None if old is _MISSING else old, value)

    def append(self, key: str, value: Any) -> None:
        """Append ``value`` to the list under ``key`` (created when missing)."""
        with self._lock:
            current = list(self._values.get(key) or [])
            self.update(key, [*current, value])

    def reset(self) -> None:
        """Back to the initial values; the reset itself is kept in the history."""
        with self._lock:
            for key in set(self._values) | set(self._initial):
                old = self._values.get(key)
                new = copy.deepcopy(self._initial.get(key))
                if old != new:
                    self._record(key, old, new)
            self._values = copy.deepcopy(self._initial)

    def get_history(self) -> list[StateChange]:
        with self._lock:
            return list(self._history)

    history = property(get_history)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the current values."""
        with self._lock:
            return copy.deepcopy(self._values)

    def _record(self, key: str, old: Any, new: Any) -> None:
        self._history.append(StateChange(key, old, new, time.time()))
        if len(self._history) > self._history_limit:
            del self._history[: len(self._history) - self._history_limit]


def manage_state(initial: Mapping[str, Any] | None = None) -> NotebookState:
    """The state object a notebook's cells share (spec section 6, cell 3)."""
    return NotebookState(initial)
