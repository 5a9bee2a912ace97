"""Code-server ports: one per module, never one another registered module already uses."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from daglab._errors import ConflictError, ValidationError

#: Where ``--port auto`` starts looking: above Dagster's webserver (3000) and daglab's marimo.
FIRST_AUTO_PORT = 4000
LAST_AUTO_PORT = 4999


def bindable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def used_ports(modules: Iterable[Path], grpc: Iterable[int] = ()) -> dict[int, str]:
    """Port -> who holds it, over the modules' recorded ports and the workspace's gRPC entries."""
    from daglab._modules.meta import read_module_meta

    used: dict[int, str] = dict.fromkeys(grpc, "a gRPC entry of the workspace")
    for folder in modules:
        try:
            meta = read_module_meta(folder)
        except ValidationError:
            continue  # a broken table is audit's to report; it holds no port we can read
        if meta is not None and meta.port is not None:
            used.setdefault(meta.port, f"module {meta.name or folder.name} ({folder})")
    return used


def parse_port(text: str) -> int | None:
    """``"auto"`` -> None, ``"4001"`` -> 4001; anything else is a ValidationError."""
    if text.strip().lower() == "auto":
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise ValidationError(
            f"--port {text!r} is not a port number (1-65535) or auto",
            remediation="Pass --port auto, or a number such as --port 4001.",
        )
    return int(text)


def choose_port(wanted: int | None, used: dict[int, str], *, keep: int | None = None) -> int:
    """``wanted``, refused (exit 8) when another module holds it; or, for None, the first port
    from FIRST_AUTO_PORT that no module holds and that is free on loopback. ``keep`` is this
    module's own recorded port, kept by ``auto`` on a re-run."""
    if wanted is not None:
        holder = used.get(wanted)
        if holder is not None and wanted != keep:
            raise ConflictError(
                f"port {wanted} is already the code-server port of {holder}",
                remediation="Pass another --port, or --port auto to pick a free one.",
            )
        return wanted
    if keep is not None:
        return keep
    for port in range(FIRST_AUTO_PORT, LAST_AUTO_PORT + 1):
        if port not in used and bindable(port):
            return port
    raise ConflictError(
        f"no free code-server port between {FIRST_AUTO_PORT} and {LAST_AUTO_PORT}",
        remediation="Pass --port with a free port number.",
    )
