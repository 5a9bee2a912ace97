"""Ports for ``daglab dev``: parsing ``--port-range``, the host check, and choosing free ports."""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Sequence
from pathlib import Path

from daglab._errors import ConflictError, UsageError

LAST_PORTS = Path(".daglab") / "last_ports.json"
#: How many ports after the configured one are tried when it is busy (spec 2.3: the next 10).
PORT_TRIES = 10
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_HOST = "127.0.0.1"


def parse_port_range(text: str) -> tuple[int, int]:
    """``"START-END"`` as two ports; anything else is a usage error (exit 2)."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", text)
    if not match:
        raise UsageError(
            f"--port-range {text!r} is not START-END",
            remediation="Give two ports separated by a dash, e.g. --port-range 3000-3020.",
        )
    start, end = int(match.group(1)), int(match.group(2))
    if not (1 <= start <= 65535 and 1 <= end <= 65535):
        raise UsageError(
            f"--port-range {text}: ports must be between 1 and 65535",
            remediation="Use ports in 1-65535, e.g. --port-range 3000-3020.",
        )
    if start > end:
        raise UsageError(
            f"--port-range {text}: START is greater than END",
            remediation=f"Give the lower port first: --port-range {end}-{start}.",
        )
    return start, end


def is_loopback(host: str) -> bool:
    return host.strip().lower().strip("[]") in LOOPBACK_HOSTS


def check_host(host: str, *, token: bool) -> None:
    """Serving beyond this machine needs marimo's token; ``--no-token`` only on loopback."""
    if not token and not is_loopback(host):
        raise UsageError(
            f"--no-token with --host {host} would let anyone who can reach {host} edit and run"
            " code in the notebook",
            remediation="Keep the token (drop --no-token), or serve on --host 127.0.0.1.",
        )


def connect_host(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine."""
    host = host.strip("[]")
    # A bind-all address maps to loopback; nothing binds here.
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def http_url(host: str, port: int) -> str:
    host = connect_host(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_is_free(host: str, port: int) -> bool:
    """True when a server could listen on ``host:port`` now (as servers do, with SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(
            f"--host {host} cannot be resolved: {exc}",
            remediation="Give an address of this machine, e.g. --host 127.0.0.1.",
        ) from None
    tried = False
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    return False
                continue  # e.g. ::1 on a machine without IPv6: not this address
            tried = True
    return tried


def candidate_ports(preferred: int, port_range: tuple[int, int] | None) -> list[int]:
    """``preferred`` and the next :data:`PORT_TRIES`, or the ports of ``port_range``."""
    if port_range is None:
        return list(range(preferred, min(preferred + PORT_TRIES, 65535) + 1))
    start, end = port_range
    first = [preferred] if start <= preferred <= end else []
    return first + [port for port in range(start, end + 1) if port != preferred]


def choose_port(
    label: str,
    preferred: int,
    *,
    host: str,
    port_range: tuple[int, int] | None,
    taken: Sequence[int] = (),
    flag: str = "",
) -> int:
    """The first free candidate port; none free is a conflict (exit 8)."""
    candidates = [port for port in candidate_ports(preferred, port_range) if port not in taken]
    for port in candidates:
        if port_is_free(host, port):
            return port
    if port_range is None:
        tried = f"{preferred}-{min(preferred + PORT_TRIES, 65535)}"
    else:
        tried = f"{port_range[0]}-{port_range[1]}"
    raise ConflictError(
        f"no free port for {label} on {host}: {tried} are all in use",
        remediation=f"Stop what listens there, or choose other ports with {flag or '--port-range'}"
        " or --port-range START-END.",
        ports=tried,
    )
