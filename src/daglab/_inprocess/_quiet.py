"""Dagster's own chatter goes to daglab's log file, not to the user's terminal.

Opening an instance without a ``dagster.yaml`` logs a warning on the ``dagster`` logger (which,
with no handler configured, Python prints to stderr), and Dagster marks beta, preview and
superseded APIs with warnings of its own classes. Neither is about what the user asked daglab to
do, so inside :func:`dagster_quiet` both are written to daglab's log (``.daglab/daglab.log``) at
INFO: ``--log-level INFO`` shows them. Warnings of other origins, and Dagster's errors, pass
through unchanged.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from daglab._logging import get_logger

__all__ = ["dagster_quiet"]

#: Warning classes Dagster defines, by the names the versions daglab supports export them under.
_CATEGORY_NAMES = ("BetaWarning", "PreviewWarning", "ExperimentalWarning", "SupersessionWarning")


def _dagster_dirs() -> tuple[str, ...]:
    import importlib.util

    dirs: list[str] = []
    for name in ("dagster", "dagster_shared"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs += [str(p).rstrip(os.sep) + os.sep for p in spec.submodule_search_locations]
    return tuple(dirs)


def _categories() -> list[type[Warning]]:
    import dagster

    found = [getattr(dagster, name, None) for name in _CATEGORY_NAMES]
    return [c for c in found if isinstance(c, type) and issubclass(c, Warning)]


class _ToDaglabLog(logging.Handler):
    """Dagster's records, re-logged by daglab: its warnings (and below) at INFO."""

    def __init__(self, dirs: tuple[str, ...]) -> None:
        super().__init__()
        self.dirs = dirs
        self.log = get_logger("dagster")

    def emit(self, record: logging.LogRecord) -> None:
        ours = record.pathname.startswith(self.dirs) if self.dirs else record.name == "dagster"
        level = logging.INFO if ours and record.levelno <= logging.WARNING else record.levelno
        try:
            self.log.log(level, "%s", record.getMessage())
        except Exception:  # a message that cannot be formatted must not break the caller
            self.handleError(record)


@contextmanager
def dagster_quiet() -> Iterator[None]:
    """Within the block, Dagster's instance messages and warnings go to daglab's log."""
    dirs = _dagster_dirs()
    log = get_logger("dagster")
    dagster_logger = logging.getLogger("dagster")
    handler = _ToDaglabLog(dirs)
    propagate = dagster_logger.propagate
    dagster_logger.addHandler(handler)
    dagster_logger.propagate = False
    categories = tuple(_categories())
    try:
        with warnings.catch_warnings():
            shown = warnings.showwarning

            def show(
                message: Warning | str,
                category: type[Warning],
                filename: str,
                lineno: int,
                file: TextIO | None = None,
                line: str | None = None,
            ) -> None:
                if issubclass(category, categories) or (dirs and filename.startswith(dirs)):
                    log.info("%s: %s", category.__name__, message)
                    return
                shown(message, category, filename, lineno, file, line)

            warnings.showwarning = show
            for category in categories:
                # Dagster's own classes reach ``show`` even where warnings are made errors.
                warnings.filterwarnings("default", category=category)
            yield
    finally:
        dagster_logger.removeHandler(handler)
        dagster_logger.propagate = propagate
