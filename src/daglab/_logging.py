"""Logging for daglab: console level from ``--log-level``, a rotating file, and secret redaction.

Every handler daglab installs formats through :class:`RedactingFormatter`, so a token can reach
neither the terminal nor ``.daglab/daglab.log`` — not in a message, not in its arguments, not in a
traceback.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER_NAME = "daglab"
MASK = "***"

_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|CREDENTIALS?)$", re.I)
_PATTERNS = (
    # "Authorization: Bearer abc", "Basic abc=", "Token abc"
    re.compile(r"\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=\-]{4,}", re.I),
    # key=value / key: value / "key": "value" for secret-looking keys
    re.compile(
        r"""(["']?(?:authorization|dagster-cloud-api-token|x-api-key|api[_-]?key|access_token|"""
        r"""token|password|passwd|secret|client_secret)["']?\s*[:=]\s*["']?)"""
        r"""(?!Bearer\b|Basic\b|Token\b|\*\*\*)([^\s"'&,;}]{4,})""",
        re.I,
    ),
)

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it would be logged or printed from now on."""
    if value and len(value) >= 4:
        _secrets.add(value)


def register_secrets_from_env(environ: Mapping[str, str], names: Iterable[str] = ()) -> None:
    """Register the values of ``names`` and of every variable whose name looks secret."""
    for name, value in environ.items():
        if name in names or _SECRET_NAME.search(name):
            register_secret(value)


#: Every credential pattern contains one of these words; text without any skips the regexes.
_TRIGGERS = ("bearer", "basic", "token", "authorization", "api", "password", "passwd", "secret")


def redact(text: str) -> str:
    """``text`` with every registered secret and every credential-shaped value masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    lowered = text.lower()
    if not any(word in lowered for word in _TRIGGERS):
        return text  # large JSON outputs usually take this path
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}", text)


class ProjectFileHandler(RotatingFileHandler):
    """A rotating log file that exists only in a project set up by ``daglab init``.

    Records are dropped while the file's folder (``.daglab/``) is missing, so no command creates
    it as a side effect; once ``init`` has made it, the same process starts writing.
    """

    def __init__(self, path: Path, *, max_bytes: int, backup_count: int) -> None:
        super().__init__(
            path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
        )
        self.folder = path.parent

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None and not self.folder.is_dir():
            return
        super().emit(record)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def setup_logging(
    *,
    console_level: str,
    file: Path | None = None,
    file_level: str = "INFO",
    file_format: str = "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
) -> logging.Logger:
    """Configure the ``daglab`` logger; safe to call again (handlers are replaced)."""
    register_secrets_from_env(os.environ)
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    console = logging.StreamHandler()
    console.setLevel(console_level.upper())
    console.setFormatter(RedactingFormatter("daglab: %(levelname)s: %(message)s"))
    logger.addHandler(console)
    levels = [logging.getLevelName(console_level.upper())]
    if file is not None:
        handler = ProjectFileHandler(file, max_bytes=max_bytes, backup_count=backup_count)
        handler.setLevel(file_level.upper())
        handler.setFormatter(RedactingFormatter(file_format))
        logger.addHandler(handler)
        levels.append(logging.getLevelName(file_level.upper()))
    logger.setLevel(min(levels))
    return logger


def close_logging() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
