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

#: Keys whose value is a credential, as a whole word (``token=``, ``api_key:``, ``"password":``,
#: ``Dagster-Cloud-Api-Token:``); ``token_env:`` or ``max_tokens=`` are not. A signed URL's
#: ``sig``/``X-Amz-Signature`` is left alone here: ``export --upload`` prints one on purpose, to
#: be shared. In an endpoint URL it is masked at the source (:class:`daglab._url.SafeUrl`).
# Python's re scans a large document slowly when a pattern starts with a lookbehind or ignores
# case, so the keyword patterns run only where ``str.find`` (fast) saw their keyword in the
# lower-cased text, anchored there; the key's prefix (``Dagster-Cloud-Api-``) is a lookbehind.
_AUTHORIZATION = re.compile(
    # An Authorization header, whatever its scheme: "Authorization: Bearer abc",
    # "{'Authorization': 'Basic dXNlcjpwYXNz'}", "authorization=Token abc".
    r"""((?<!\w)authorization["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Digest)\s+)?)"""
    r"""(?!\*\*\*)(?!(?:Bearer|Basic|Token|Digest)\s)([^\s"'&,;}]+)""",
    re.I,
)
_SECRET_KEY = re.compile(
    # key=value / key: value / "key": "value" for a secret-looking key
    r"""((?:(?<=[-_])|(?<![\w-]))(?:token|api[_-]?key|apikey|password|passwd|secret)"""
    r"""["']?\s*[:=]\s*["']?)(?!\*\*\*)(?!Bearer\b|Basic\b)([^\s"'&,;}]+)""",
    re.I,
)
_KEYED = (
    (("authorization",), _AUTHORIZATION),
    (("token", "apikey", "api_key", "api-key", "passw", "secret"), _SECRET_KEY),
)
# scheme://user:password@host (starts with a literal: fast as it is)
_URL_PASSWORD = re.compile(r"(://[^\s/?#@:]*:)(?!\*\*\*@)([^\s/?#]*)(?=@)")

#: Registered secrets shorter than this are masked only as whole tokens (see ``redact``).
SHORT_SECRET = 8

_secrets: set[str] = set()
_short: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it would be logged or printed from now on, whatever its length."""
    global _short
    if not value or value == MASK or value in _secrets:
        return
    _secrets.add(value)
    if len(value) < SHORT_SECRET:
        _short = None  # rebuilt on the next redact()


def register_secrets_from_env(environ: Mapping[str, str], names: Iterable[str] = ()) -> None:
    """Register the values of ``names`` and of every variable whose name looks secret.

    A variable picked by its name alone (``*_TOKEN``, ``*_PASSWORD``…) is often a flag such as
    ``1`` or ``false``; those shorter than 4 characters are left out. ``names`` (the variable
    named by ``dagster.auth.token_env``) are registered at any length.
    """
    wanted = set(names)
    for name, value in environ.items():
        if name in wanted or (_SECRET_NAME.search(name) and len(value) >= 4):
            register_secret(value)


def _short_pattern() -> re.Pattern[str] | None:
    """One regex for the short secrets: each must stand alone, not inside a longer word."""
    global _short
    short = sorted((s for s in _secrets if len(s) < SHORT_SECRET), key=len, reverse=True)
    if _short is None and short:
        alternatives = []
        for secret in short:
            before = r"(?<![A-Za-z0-9])" if secret[0].isalnum() else ""
            after = r"(?![A-Za-z0-9])" if secret[-1].isalnum() else ""
            alternatives.append(f"{before}{re.escape(secret)}{after}")
        _short = re.compile("|".join(alternatives))
    return _short


def redact(text: str) -> str:
    """``text`` with every registered secret and every unambiguous credential masked.

    Secrets of 8 characters or more are masked wherever they occur. Shorter ones (a three-letter
    token is a real case) are masked only where they stand alone — not preceded or followed by a
    letter or digit — so registering ``ab12`` does not turn ``ab123`` or ``lab12x`` into noise;
    ``Bearer ab12``, ``user:ab12@host`` and ``token=ab12`` are still masked. Beyond registered
    values, only shapes that are credentials whatever their context are masked: an
    Authorization header's value, ``key=value`` with a secret-looking key, and a URL's password.
    """
    for secret in sorted(_secrets, key=len, reverse=True):
        if len(secret) >= SHORT_SECRET:
            text = text.replace(secret, MASK)
    short = _short_pattern()
    if short is not None and any(s in text for s in _secrets if len(s) < SHORT_SECRET):
        text = short.sub(MASK, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)
    for keywords, pattern in _KEYED:
        text = _mask_at(text, keywords, pattern)
    return text


def _mask_at(text: str, keywords: tuple[str, ...], pattern: re.Pattern[str]) -> str:
    """Mask group 2 of ``pattern`` wherever it matches at one of ``keywords`` (any case)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare character whose lower case is longer
        return pattern.sub(lambda m: f"{m.group(1)}{MASK}", text)
    starts = set()
    for keyword in keywords:
        index = lowered.find(keyword)
        while index >= 0:
            starts.add(index)
            index = lowered.find(keyword, index + 1)
    if not starts:
        return text
    pieces, last = [], 0
    for start in sorted(starts):
        match = pattern.match(text, start) if start >= last else None
        if match is not None:
            pieces += [text[last : match.start(2)], MASK]
            last = match.end(2)
    pieces.append(text[last:])
    return "".join(pieces)


def clear_secrets() -> None:
    """Forget every registered secret (tests; a long-lived process switching credentials)."""
    global _short
    _secrets.clear()
    _short = None


#: C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_control(text: str) -> str:
    """``text`` with control characters shown as escapes: ``\\x1b[31m`` cannot colour a terminal.

    Newline and tab are kept (they are formatting); a carriage return, which can overwrite a
    line, is escaped like the rest.
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


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
    """Secrets masked and control characters escaped, in every record of every handler."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_control(redact(super().format(record)))


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
