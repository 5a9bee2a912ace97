"""``daglab dev``: Dagster's UI and the marimo editor side by side, supervised.

The supervisor starts ``dagster dev`` (``dg dev`` in a dg project) and ``marimo edit`` as
children, each in a session and process group of its own, so a terminal's Ctrl-C reaches only
the supervisor, which then stops both on purpose: the stop signal to each group (SIGINT for
Dagster, which relays it to its webserver and daemon; SIGTERM for marimo), a grace period, then
SIGKILL for whatever is left, including processes that left the group (marimo's kernels start
sessions of their own). Both children's output becomes one prefixed stream on the terminal and in
the rotating log file; their resource use is sampled with psutil.

marimo keeps its token authentication: the supervisor makes the token and hands it to
``marimo edit --token-password-file -`` on stdin, so it never appears on a command line, and
registers it as a secret so logs show it masked.

The package imports neither Dagster nor marimo (the supervisor stays small); psutil and Rich load
only inside the functions that use them. Its modules, lowest first: ``ports`` and ``env`` (flags
and files), ``commands`` (what to run), ``plan`` (everything decided before a start),
``supervisor`` (the running children) and ``session`` (one ``daglab dev`` from start to stop).
"""

from __future__ import annotations

from daglab._host import find_executable, port_open
from daglab._sidecar.commands import (
    dagster_command,
    has_code_location,
    marimo_command,
    notebook_choices,
    resolve_notebook,
)
from daglab._sidecar.env import dagster_home, parse_env_text, read_env_file
from daglab._sidecar.plan import DevOptions, DevPlan, ServiceSpec, build_plan
from daglab._sidecar.ports import (
    DEFAULT_HOST,
    LAST_PORTS,
    LOOPBACK_HOSTS,
    PORT_TRIES,
    candidate_ports,
    check_host,
    choose_port,
    connect_host,
    http_url,
    is_loopback,
    parse_port_range,
    port_is_free,
)
from daglab._sidecar.session import run_dev, write_last_ports
from daglab._sidecar.supervisor import TAIL_LINES, ChildExit, Sink, Supervisor, Usage

__all__ = [
    "DEFAULT_HOST",
    "LAST_PORTS",
    "LOOPBACK_HOSTS",
    "PORT_TRIES",
    "TAIL_LINES",
    "ChildExit",
    "DevOptions",
    "DevPlan",
    "ServiceSpec",
    "Sink",
    "Supervisor",
    "Usage",
    "build_plan",
    "candidate_ports",
    "check_host",
    "choose_port",
    "connect_host",
    "dagster_command",
    "dagster_home",
    "find_executable",
    "has_code_location",
    "http_url",
    "is_loopback",
    "marimo_command",
    "notebook_choices",
    "parse_env_text",
    "parse_port_range",
    "port_is_free",
    "port_open",
    "read_env_file",
    "resolve_notebook",
    "run_dev",
    "write_last_ports",
]
