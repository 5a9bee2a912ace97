"""Facts about this machine that several commands ask: where an executable is, whether a port
answers.

A low module on purpose: ``daglab doctor`` and ``daglab dev`` both use it, and neither imports the
other.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def find_executable(name: str) -> str | None:
    """``name`` beside this Python (its virtualenv) first, then on PATH."""
    import shutil

    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def port_open(host: str, port: int, timeout: float) -> bool:
    """Whether something accepts TCP connections on ``host:port`` within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
