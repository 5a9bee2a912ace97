"""Serve ``--help`` from a cache of what Rich rendered last time.

Rendering help with Typer and Rich costs more than the rest of daglab's start-up together. The
text only changes with daglab's CLI code, the terminal and a few environment variables, so the
first rendering is saved under ``$XDG_CACHE_HOME/daglab/help`` keyed by all of them, and later
calls print it without importing Typer or Rich. ``DAGLAB_NO_HELP_CACHE=1`` turns this off.
"""

from __future__ import annotations

import io
import os
import sys
import zlib

TYPE_CHECKING = False  # typing itself costs more than this whole module
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

HELP_FLAGS = ("--help", "-h")
#: Environment variables that change how Typer and Rich render help.
_ENV_KEYS = (
    "COLUMNS",
    "LINES",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "PY_COLORS",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "TERMINAL_WIDTH",
    "GITHUB_ACTIONS",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "_TYPER_FORCE_DISABLE_TERMINAL",
    "_TYPER_STANDARD_TRACEBACK",
    "LANG",
    "LC_ALL",
)


def is_help_request(args: list[str]) -> bool:
    """True for ``daglab [group] [command] --help`` with nothing else on the line."""
    words = [a for a in args if a not in HELP_FLAGS]
    if any(word.startswith("-") or "=" in word for word in words) or len(words) > 2:
        return False
    return len(words) < len(args) or not args


def _cache_dir() -> str | None:
    if os.environ.get("DAGLAB_NO_HELP_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "daglab", "help")


def _cli_signature() -> str:
    """Changes whenever daglab's CLI code or version changes (editable installs included)."""
    from daglab._version import __version__

    here = os.path.dirname(__file__)
    parts = [__version__, sys.version, here]
    for entry in sorted(os.scandir(here), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            stat = entry.stat()
            parts.append(f"{entry.name}:{stat.st_mtime_ns}:{stat.st_size}")
    return "|".join(parts)


def _key(args: list[str], stream: TextIO) -> str:
    """Everything the rendered text depends on, as one line (stored with the text)."""
    try:
        size = os.get_terminal_size(stream.fileno())
        terminal = f"{size.columns}x{size.lines}"
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        terminal = "-"
    isatty = hasattr(stream, "isatty") and stream.isatty()
    env = [f"{k}={os.environ.get(k, '')}" for k in _ENV_KEYS]
    return repr([_cli_signature(), args, terminal, isatty, env])


def _location(args: list[str]) -> tuple[str, str] | None:
    """(cache file, key); the file name is a checksum, the key inside it is compared whole."""
    base = _cache_dir()
    if base is None or not is_help_request(args):
        return None
    key = _key(args, sys.stdout)
    return os.path.join(base, f"{zlib.crc32(key.encode()):08x}.txt"), key


def serve(args: list[str]) -> bool:
    """Print cached help for ``args`` if there is any; False means "render it yourself"."""
    location = _location(args)
    if location is None:
        return False
    path, key = location
    try:
        with open(path, encoding="utf-8") as handle:
            stored_key, _, text = handle.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return False
    if stored_key != key or not text:
        return False
    sys.stdout.write(text)
    sys.stdout.flush()
    return True


class _Tee(io.TextIOBase):
    """A stdout stand-in that also keeps what was written; terminal queries go to the original."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.captured = io.StringIO()

    def write(self, text: str) -> int:
        self.captured.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def render_and_store(args: list[str], render: Callable[[], int]) -> int:
    """Run ``render()`` (which prints help) and save what it printed when it succeeds."""
    location = _location(args)
    if location is None:
        return render()
    path, key = location
    original = sys.stdout
    tee = _Tee(original)
    sys.stdout = tee
    try:
        code = render()
    finally:
        sys.stdout = original
    text = tee.captured.getvalue()
    if code == 0 and text:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(f"{key}\n{text}")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home only costs speed
    return code
