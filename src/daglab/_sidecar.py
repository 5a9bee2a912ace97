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

This module imports neither Dagster nor marimo (the supervisor stays small); psutil and Rich load
only inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from daglab._compat.commands import dagster_dev_args, dev_command_name, marimo_edit_args
from daglab._compat.versions import install_hint
from daglab._errors import (
    ConflictError,
    ConnectivityError,
    EnvironmentMissingError,
    UsageError,
    ValidationError,
)
from daglab._logging import get_logger

if TYPE_CHECKING:
    import subprocess

    import psutil

    from daglab._config import LoadedConfig
    from daglab._project import Project

LAST_PORTS = Path(".daglab") / "last_ports.json"
#: How many ports after the configured one are tried when it is busy (spec 2.3: the next 10).
PORT_TRIES = 10
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_HOST = "127.0.0.1"
TAIL_LINES = 25

# Run each child through this tiny wrapper: a process that inherits SIGINT/SIGTERM as *ignored*
# (a background job of a non-interactive shell, for one) keeps them ignored across exec, and
# Dagster then cannot be stopped gracefully. Reset both, ask Linux to send SIGTERM should the
# supervisor die without stopping us, and exec the real command.
_EXEC_WRAPPER = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "if sys.platform.startswith('linux'):\n"
    "    try:\n"
    "        import ctypes\n"
    "        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))\n"
    "    except Exception:\n"
    "        pass\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")

# --------------------------------------------------------------------------- small parsers


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


_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_env_text(text: str, source: str = "<env>") -> dict[str, str]:
    """Dotenv lines: ``KEY=VALUE``, an optional ``export`` prefix, quotes and comments.

    Single quotes are literal; double quotes understand ``\\n \\t \\r \\" \\\\ \\$``; an
    unquoted value ends at `` #``. There is no ``${VAR}`` expansion. A line that is none of
    these is a validation error naming the file and line.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ValidationError(
                f"{source}:{number}: expected KEY=VALUE, got {raw.strip()[:60]!r}",
                remediation="Write one KEY=VALUE per line (optionally `export KEY=VALUE`).",
            )
        key, rest = match.group(1), match.group(2)
        values[key] = _env_value(rest, source, number)
    return values


def _env_value(rest: str, source: str, number: int) -> str:
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        chars: list[str] = []
        index = 1
        while index < len(rest):
            char = rest[index]
            if quote == '"' and char == "\\" and index + 1 < len(rest):
                nxt = rest[index + 1]
                chars.append(_ESCAPES.get(nxt, "\\" + nxt))
                index += 2
                continue
            if char == quote:
                trailing = rest[index + 1 :].strip()
                if trailing and not trailing.startswith("#"):
                    raise ValidationError(
                        f"{source}:{number}: unexpected text after the closing quote:"
                        f" {trailing[:40]!r}",
                        remediation="Put a comment after ` #`, or quote the whole value.",
                    )
                return "".join(chars)
            chars.append(char)
            index += 1
        raise ValidationError(
            f"{source}:{number}: the {quote} quote is not closed",
            remediation="Close the quote on the same line; multi-line values are not supported.",
        )
    comment = re.search(r"\s#", rest)
    return (rest[: comment.start()] if comment else rest).strip()


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of ``path``; a missing or unreadable file is a validation error (exit 7)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(
            f"--env-file {path} does not exist",
            remediation="Give the path of an existing dotenv file (KEY=VALUE lines).",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"--env-file {path} cannot be read: {exc}",
            remediation="Give a readable UTF-8 dotenv file.",
        ) from None
    return parse_env_text(text, str(path))


# --------------------------------------------------------------------------- ports


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


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class DevOptions:
    """``daglab dev``'s flags, after parsing."""

    dagster_port: int | None = None
    marimo_port: int | None = None
    port_range: tuple[int, int] | None = None
    host: str = DEFAULT_HOST
    token: bool = True
    env_file: Path | None = None
    ci: bool = False
    open_browser: bool | None = None
    sandbox: bool = False
    log_level: str | None = None
    grace: float = 15.0
    dagster_timeout: float = 180.0
    marimo_timeout: float = 120.0
    sample_interval: float = 5.0
    show_interval: float = 30.0


@dataclass(frozen=True)
class ServiceSpec:
    """One child: what to run, where, and how to tell it is up and to stop it."""

    name: str
    label: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    cwd: Path
    host: str
    port: int
    stop_signal: int
    ready_path: str | None = None  # an HTTP path answering 200 once up; None: the port accepts
    stdin_data: bytes | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)


@dataclass(frozen=True)
class DevPlan:
    """Everything ``daglab dev`` will start, resolved and checked before anything starts."""

    root: Path
    notebook: Path
    dagster: ServiceSpec
    marimo: ServiceSpec
    token: str | None = field(repr=False)
    options: DevOptions
    open_browser: bool
    log_file: Path | None
    notes: tuple[tuple[str, str], ...] = ()  # (level, message) to show before starting

    @property
    def marimo_url(self) -> str:
        """marimo's URL with the access token (show it to the user, never log it)."""
        base = self.marimo.url
        return f"{base}/?access_token={self.token}" if self.token else base

    @property
    def last_ports_path(self) -> Path:
        return self.root / LAST_PORTS


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def find_executable(name: str) -> str | None:
    """``name`` beside this Python (its virtualenv) first, then on PATH."""
    import shutil

    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def has_code_location(project: Project) -> bool:
    """Whether ``dagster dev``/``dg dev`` can find code here without arguments."""
    tool = project.pyproject.get("tool", {})
    files = ("workspace.yaml", "workspace.yml", "dg.toml")
    return "dagster" in tool or "dg" in tool or any((project.root / f).is_file() for f in files)


def dagster_command(project: Project) -> tuple[list[str], str]:
    """The command that serves ``project``'s code, and its name: ``dg dev`` or ``dagster dev``."""
    if not project.is_dagster_project:
        raise EnvironmentMissingError(
            f"No Dagster project found at or above {project.root}",
            remediation="cd into a Dagster project (pyproject.toml with [tool.dg]/[tool.dagster],"
            " or workspace.yaml), or create one with `daglab init --bootstrap <folder>`.",
        )
    if not has_code_location(project):
        raise EnvironmentMissingError(
            f"No code location found in {project.root}: `dagster dev` would not know what to load",
            remediation='Add [tool.dagster] module_name = "<package>.definitions" to'
            " pyproject.toml, or a workspace.yaml naming the code.",
        )
    dg = find_executable("dg")
    if dev_command_name(project.kind, dg is not None) == "dg dev":
        return [str(dg), "dev"], "dg dev"
    if project.kind == "dg-workspace":
        raise EnvironmentMissingError(
            f"{project.root} is a dg workspace, which only `dg dev` serves, and dg is not"
            " installed",
            remediation="pip install dagster-dg-cli",
        )
    if _importable("dagster") and _importable("dagster_webserver"):
        return [sys.executable, "-m", "dagster", "dev"], "dagster dev"
    if _importable("dagster"):
        raise EnvironmentMissingError(
            "dagster is installed without dagster-webserver, which `dagster dev` needs",
            remediation=install_hint("dagster-webserver") + ".",
        )
    exe = find_executable("dagster")
    if exe is not None:
        return [exe, "dev"], "dagster dev"
    raise EnvironmentMissingError(
        "Dagster is not installed: neither importable here nor a `dagster` command on PATH",
        remediation=install_hint("dagster") + ".",
    )


def marimo_command() -> list[str]:
    if _importable("marimo"):
        return [sys.executable, "-m", "marimo"]
    exe = find_executable("marimo")
    if exe is not None:
        return [exe]
    raise EnvironmentMissingError(
        "marimo is not installed: neither importable here nor a `marimo` command on PATH",
        remediation=install_hint("marimo") + ".",
    )


def resolve_notebook(loaded: LoadedConfig, given: Path | None, cwd: Path) -> Path | None:
    """``--notebook`` (checked), else the last scaffolded notebook, else None."""
    from daglab._manifest import last_notebook

    project = loaded.project
    if given is not None:
        path = given if given.is_absolute() else cwd / given
        if not path.is_file():
            raise ValidationError(
                f"notebook {given} does not exist",
                remediation="Give an existing notebook with --notebook, or create one with"
                " `daglab scaffold --asset KEY`.",
            )
        if not project.contains(path):
            raise ValidationError(
                f"notebook {given} is outside the project at {project.root}",
                remediation="Give a notebook inside the project with --notebook.",
            )
        return path.resolve()
    last = last_notebook(project.root)
    if last is not None and project.contains(last):
        return last.resolve()
    return None


def notebook_choices(folder: Path) -> list[Path]:
    """marimo notebooks under ``folder`` (files that define ``marimo.App``), sorted."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if path.name == "__init__.py" or any(p.startswith((".", "__")) for p in parts[:-1]):
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(65536)
        except OSError:
            continue
        if "marimo.App(" in head:
            found.append(path)
    return found


def dagster_home(env: dict[str, str], root: Path) -> tuple[str, str] | None:
    """Set ``DAGSTER_HOME`` in ``env`` if needed; return a (level, note) for the user, if any."""
    value = env.get("DAGSTER_HOME")
    if value:
        path = Path(value)
        if not path.is_absolute() or not path.is_dir():
            raise EnvironmentMissingError(
                f"DAGSTER_HOME={value} is not an existing absolute folder",
                remediation=f"mkdir -p {value} (an absolute path), or unset DAGSTER_HOME.",
            )
        return None
    local = root / ".dagster_home"
    if local.is_dir():
        env["DAGSTER_HOME"] = str(local.resolve())
        return ("info", f"DAGSTER_HOME={local} (the project's .dagster_home)")
    return (
        "warning",
        "DAGSTER_HOME is not set and the project has no .dagster_home folder: Dagster keeps runs"
        " in a temporary folder that is removed when it stops. Create .dagster_home (or set"
        " DAGSTER_HOME) to keep them.",
    )


def build_plan(loaded: LoadedConfig, notebook: Path, options: DevOptions) -> DevPlan:
    """Check everything and decide commands, ports and environments; starts nothing.

    Raises the error a user can act on: 3 (no project, no code location, Dagster or marimo
    missing), 7 (the env file), 8 (no free port).
    """
    import secrets

    from daglab._logging import register_secret, register_secrets_from_env

    project = loaded.project
    config = loaded.config
    root = project.root
    check_host(options.host, token=options.token)
    dagster_argv, dagster_label = dagster_command(project)
    marimo_argv = marimo_command()

    base_env = dict(os.environ)
    if options.env_file is not None:
        extra = read_env_file(options.env_file)
        register_secrets_from_env(extra)
        base_env.update(extra)
    base_env["PYTHONUNBUFFERED"] = "1"
    notes: list[tuple[str, str]] = []

    dagster_env = dict(base_env)
    home_note = dagster_home(dagster_env, root)
    if home_note is not None:
        notes.append(home_note)

    host = options.host
    wanted_dagster = options.dagster_port or config.dagster.port
    wanted_marimo = options.marimo_port or config.marimo.port
    dagster_port = choose_port(
        "Dagster",
        wanted_dagster,
        host=host,
        port_range=options.port_range,
        flag="--dagster-port",
    )
    marimo_port = choose_port(
        "marimo",
        wanted_marimo,
        host=host,
        port_range=options.port_range,
        taken=(dagster_port,),
        flag="--marimo-port",
    )
    for label, wanted, got in (
        ("Dagster", wanted_dagster, dagster_port),
        ("marimo", wanted_marimo, marimo_port),
    ):
        if wanted == got:
            continue
        if wanted in candidate_ports(wanted, options.port_range):
            notes.append(("warning", f"port {wanted} is busy: {label} uses {got}"))
        else:
            notes.append(("info", f"{label} uses port {got} from --port-range"))
    if not is_loopback(host):
        notes.append(
            (
                "warning",
                f"serving on {host}: marimo asks for its token, but Dagster's webserver has no"
                " authentication of its own; anyone who reaches the port can launch runs",
            )
        )

    level = options.log_level
    dagster_args = dagster_dev_args(dagster_argv, host, dagster_port, level)
    dagster = ServiceSpec(
        name="dagster",
        label=dagster_label,
        argv=tuple(dagster_args),
        env=dagster_env,
        cwd=root,
        host=host,
        port=dagster_port,
        stop_signal=int(signal.SIGINT),  # what `dagster dev` expects (it relays it onwards)
        ready_path="/server_info",
    )

    token = secrets.token_urlsafe(24) if options.token else None
    register_secret(token)
    marimo_env = dict(base_env)
    marimo_env.update(
        {
            # Notebooks connect to this Dagster, wherever its port ended up.
            "DAGLAB_DAGSTER__URL": dagster.url,
            "DAGLAB_DAGSTER__HOST": connect_host(host),
            "DAGLAB_DAGSTER__PORT": str(dagster_port),
        }
    )
    if options.sandbox or config.security.sandbox_mode:
        marimo_env["DAGLAB_SECURITY__SANDBOX_MODE"] = "true"
    marimo_args = marimo_edit_args(
        marimo_argv,
        notebook,
        host=host,
        port=marimo_port,
        token=token is not None,
        ci=options.ci,
        level=level,
    )
    marimo = ServiceSpec(
        name="marimo",
        label="marimo edit",
        argv=tuple(marimo_args),
        env=marimo_env,
        cwd=root,
        host=host,
        port=marimo_port,
        stop_signal=int(signal.SIGTERM),
        ready_path=None,
        stdin_data=(token + "\n").encode() if token else None,
    )
    open_browser = (
        options.open_browser if options.open_browser is not None else config.defaults.open_browser
    )
    return DevPlan(
        root=root,
        notebook=notebook,
        dagster=dagster,
        marimo=marimo,
        token=token,
        options=options,
        open_browser=open_browser and not options.ci,
        log_file=loaded.log_file(),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- supervision


class Sink(Protocol):
    """Where the supervisor shows things: the CLI prints them; the log file is separate."""

    def line(self, service: str, text: str) -> None: ...

    def event(self, text: str, level: str = "info") -> None: ...

    def ready(self, urls: Sequence[tuple[str, str]], elapsed: float) -> None: ...


@dataclass
class Usage:
    cpu_percent: float = 0.0
    rss: int = 0
    processes: int = 0

    def describe(self) -> str:
        return (
            f"cpu {self.cpu_percent:5.1f}% rss {self.rss / 2**20:7.1f} MB ({self.processes} proc)"
        )


@dataclass
class ChildExit:
    name: str
    label: str
    returncode: int
    tail: list[str]

    def describe(self) -> str:
        code = self.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return f"{self.label} {how}"


def _output_logger() -> logging.Logger:
    """A logger that writes to daglab's log file only (the terminal shows lines its own way).

    It borrows the file handlers ``setup_logging`` installed for this command, so the file's
    level, format, rotation and redaction apply.
    """
    from daglab._logging import LOGGER_NAME, ProjectFileHandler

    logger = logging.getLogger(f"{LOGGER_NAME}.dev.output")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in logging.getLogger(LOGGER_NAME).handlers:
        if isinstance(handler, ProjectFileHandler):
            logger.addHandler(handler)
    logger.propagate = False
    return logger


class _Child:
    def __init__(self, spec: ServiceSpec, popen: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.popen = popen
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.known: dict[int, psutil.Process] = {}
        self.reader: threading.Thread | None = None

    @property
    def pgid(self) -> int:
        return self.popen.pid  # start_new_session: the child leads its own group and session


class Supervisor:
    """Start services, show their output, sample their resources, and stop them (idempotently)."""

    def __init__(
        self,
        specs: Sequence[ServiceSpec],
        sink: Sink,
        *,
        grace: float,
        sample_interval: float,
        show_interval: float,
        verbose: bool = False,
        log_hint: str = "the log file",
    ) -> None:
        self.specs = list(specs)
        self.log_hint = log_hint
        self.verbose = verbose
        self.sink = sink
        self.grace = grace
        self.sample_interval = sample_interval
        self.show_interval = show_interval
        self.children: list[_Child] = []
        self.stop_requested = threading.Event()
        self.hurry = threading.Event()
        self.signal_received: int | None = None
        self.peaks: dict[str, int] = {}
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._log = get_logger("dev")
        self._out = _output_logger()
        self._cpu: dict[int, psutil.Process] = {}
        self.started_at = time.monotonic()
        self._last_shown = self.started_at  # the first sample only primes CPU percentages
        self._last_sample = 0.0

    # -- signals ---------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stop_requested.is_set():
            self.hurry.set()  # a second Ctrl-C: no more waiting
            return
        self.signal_received = signum
        self.stop_requested.set()

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """SIGINT, SIGTERM and SIGHUP request a clean stop while inside (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        names = [signal.SIGINT, signal.SIGTERM]
        if hasattr(signal, "SIGHUP"):
            names.append(signal.SIGHUP)
        previous = {sig: signal.getsignal(sig) for sig in names}
        for sig in names:
            signal.signal(sig, self._on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        import subprocess

        for spec in self.specs:
            if self.stop_requested.is_set():
                return
            command = [sys.executable, "-c", _EXEC_WRAPPER, *spec.argv]
            self._log.debug("starting %s: %s", spec.name, " ".join(spec.argv))
            try:
                popen = subprocess.Popen(  # noqa: S603  fixed argv, no shell
                    command,
                    cwd=spec.cwd,
                    env=dict(spec.env),
                    stdin=subprocess.PIPE if spec.stdin_data is not None else subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise EnvironmentMissingError(
                    f"could not start {spec.label}: {exc}",
                    remediation="Check that it is installed (`daglab doctor`).",
                ) from exc
            child = _Child(spec, popen)
            self.children.append(child)
            if spec.stdin_data is not None and popen.stdin is not None:
                with contextlib.suppress(OSError):
                    popen.stdin.write(spec.stdin_data)
                    popen.stdin.flush()
                with contextlib.suppress(OSError):
                    popen.stdin.close()
            child.reader = threading.Thread(
                target=self._read, args=(child,), name=f"daglab-dev-{spec.name}", daemon=True
            )
            child.reader.start()
            self.event(f"started {spec.label} (pid {popen.pid}) on port {spec.port}", "debug")

    def _read(self, child: _Child) -> None:
        stream = child.popen.stdout
        if stream is None:
            return
        name = child.spec.name
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            plain = _ANSI.sub("", text)
            child.tail.append(plain)
            self._out.info("%-7s │ %s", name, plain)
            self.show(self.sink.line, name, text)
        with contextlib.suppress(OSError):
            stream.close()

    def event(self, text: str, level: str = "info") -> None:
        self._out.log(logging.getLevelName(level.upper()), "%-7s │ %s", "daglab", text)
        if level != "debug" or self.verbose:
            self.show(self.sink.event, text, level)

    def show(self, method: Callable[..., None], *args: Any) -> None:
        """Show something on the terminal; a closed terminal must not stop the supervision."""
        try:
            method(*args)
        except Exception:
            self._log.debug("could not show %r", args[:1], exc_info=True)

    # -- readiness and watching ------------------------------------------------------------

    def exited(self) -> ChildExit | None:
        for child in self.children:
            code = child.popen.poll()
            if code is not None:
                if child.reader is not None:
                    child.reader.join(timeout=3.0)  # the last lines, for the report
                return ChildExit(child.spec.name, child.spec.label, code, list(child.tail))
        return None

    def wait_ready(self, timeouts: Mapping[str, float]) -> ChildExit | bool:
        """True once every service answers; False when a stop was requested first; the
        :class:`ChildExit` of a child that ended. A service that stays silent past its timeout
        is a connectivity error (exit 5)."""
        started = time.monotonic()
        next_progress = started + 10.0
        pending = {child.spec.name: child for child in self.children}
        while pending:
            if self.stop_requested.wait(0.3):
                return False
            ended = self.exited()
            if ended is not None:
                return ended
            now = time.monotonic()
            for name, child in list(pending.items()):
                spec = child.spec
                if _answers(spec):
                    self.event(f"{spec.label} answers at {spec.url} after {now - started:.1f} s")
                    del pending[name]
                elif now - started > timeouts.get(name, 120.0):
                    raise ConnectivityError(
                        f"{spec.label} did not answer at {spec.url} within"
                        f" {timeouts.get(name, 120.0):.0f} s; its last lines:\n"
                        + _indent(list(child.tail)[-10:]),
                        remediation=f"Read its output above (all of it is in {self.log_hint});"
                        " `daglab doctor` checks the environment.",
                    )
            if pending and now >= next_progress:
                waiting = ", ".join(c.spec.label for c in pending.values())
                self.event(f"waiting for {waiting} ({now - started:.0f} s)")
                next_progress = now + 10.0
            self._maybe_sample()
        return True

    def watch(self) -> ChildExit | None:
        """Block until a stop is requested (None) or a child ends (its :class:`ChildExit`)."""
        while not self.stop_requested.wait(0.25):
            ended = self.exited()
            if ended is not None:
                return ended
            self._maybe_sample()
        return None

    # -- resources -------------------------------------------------------------------------

    def _tree(self, child: _Child) -> list[psutil.Process]:
        import psutil

        try:
            leader = psutil.Process(child.popen.pid)
            procs = [leader, *leader.children(recursive=True)]
        except psutil.Error:
            procs = []
        for proc in procs:
            child.known.setdefault(proc.pid, proc)
        return procs

    def sample(self) -> dict[str, Usage]:
        """CPU % and RSS of each child's whole process tree, and of the supervisor."""
        import psutil

        usages: dict[str, Usage] = {}
        trees: dict[str, list[psutil.Process]] = {
            child.spec.name: self._tree(child) for child in self.children
        }
        trees["supervisor"] = [psutil.Process()]
        alive: set[int] = set()
        for name, procs in trees.items():
            usage = Usage()
            for proc in procs:
                cached = self._cpu.setdefault(proc.pid, proc)
                alive.add(proc.pid)
                try:
                    with cached.oneshot():
                        usage.cpu_percent += cached.cpu_percent(None)
                        usage.rss += cached.memory_info().rss
                    usage.processes += 1
                except psutil.Error:
                    continue
            usages[name] = usage
            self.peaks[name] = max(self.peaks.get(name, 0), usage.rss)
        for pid in set(self._cpu) - alive:
            del self._cpu[pid]
        return usages

    def _maybe_sample(self) -> None:
        now = time.monotonic()
        if now - self._last_sample < self.sample_interval:
            return
        self._last_sample = now
        try:
            usages = self.sample()
        except Exception:  # sampling is a nicety; never let it stop the session
            self._log.debug("resource sampling failed", exc_info=True)
            return
        text = "resources: " + "; ".join(f"{n} {u.describe()}" for n, u in usages.items())
        self._out.info("%-7s │ %s", "daglab", text)
        if now - self._last_shown >= self.show_interval:
            self._last_shown = now
            self.show(self.sink.event, text, "info")
        elif self.verbose:
            self.show(self.sink.event, text, "debug")

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> list[str]:
        """Stop every child and everything it started; return descriptions of processes that
        had to be killed. Safe to call more than once and from ``finally``."""
        import psutil

        with self._stop_lock:
            if self._stopped:
                return []
            self._stopped = True
        self.stop_requested.set()
        if not self.children:
            return []
        watched: dict[int, psutil.Process] = {}
        for child in self.children:
            self._tree(child)
            watched.update(child.known)
        live = [c for c in self.children if c.popen.poll() is None]
        if live:
            names = " and ".join(c.spec.label for c in live)
            self.event(f"stopping {names} (Ctrl-C again kills at once)")
        for child in live:
            self._signal_group(child, child.spec.stop_signal, watched)
        survivors = self._wait_gone(watched, self.grace)
        if survivors:  # SIGTERM to whatever ignored the first signal, briefly
            for child in self.children:
                self._signal_group(child, signal.SIGTERM, watched)
            for proc in survivors:
                with contextlib.suppress(psutil.Error):
                    proc.terminate()
            survivors = self._wait_gone(watched, min(5.0, self.grace))
        killed = [_describe(proc) for proc in survivors]
        for child in self.children:
            self._signal_group(child, signal.SIGKILL, watched)
        for proc in survivors:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        # Anything that joined a group after the snapshot (a run worker launched meanwhile).
        for child in self.children:
            if not self._group_is_ours(child, watched):
                continue
            for proc in _group_members(child.pgid):
                if proc.pid == child.popen.pid:
                    continue
                watched.setdefault(proc.pid, proc)
                killed.append(_describe(proc))
                with contextlib.suppress(psutil.Error):
                    proc.kill()
        left = self._wait_gone(watched, 5.0)
        for child in self.children:
            with contextlib.suppress(Exception):
                child.popen.wait(timeout=5.0)
            if child.reader is not None:
                child.reader.join(timeout=3.0)
        for line in killed:
            self._log.info("killed %s", line)
        if killed:
            self.event(f"killed {len(killed)} process(es) that did not stop in time", "warning")
        if self.peaks:
            peaks = ", ".join(f"{n} {v / 2**20:.0f} MB" for n, v in self.peaks.items())
            self._out.info("%-7s │ peak rss: %s", "daglab", peaks)
        if left:
            self.event(
                "still running after SIGKILL: " + "; ".join(_describe(p) for p in left), "error"
            )
        else:
            self.event("stopped; no process left running")
        return killed

    def _group_is_ours(self, child: _Child, watched: Mapping[int, psutil.Process]) -> bool:
        """Whether ``child``'s process group is still the one it started.

        An unreaped leader (even a zombie) keeps its pid, and so the group id, from being
        reused; after it is reaped, the group is ours only while a process we saw is in it.
        """
        if child.popen.returncode is None:
            return True
        for proc in _still_running(list(watched.values())):
            with contextlib.suppress(OSError):
                if os.getpgid(proc.pid) == child.pgid:
                    return True
        return False

    def _signal_group(self, child: _Child, sig: int, watched: Mapping[int, psutil.Process]) -> None:
        if self._group_is_ours(child, watched):
            _killpg(child.pgid, sig)

    def _wait_gone(
        self, procs: Mapping[int, psutil.Process], timeout: float
    ) -> list[psutil.Process]:
        """Wait until ``procs`` are gone (zombies count as gone; the leaders are reaped last,
        so their group ids stay reserved while signals are sent)."""
        deadline = time.monotonic() + timeout
        while True:
            alive = _still_running(list(procs.values()))
            if not alive or time.monotonic() >= deadline or self.hurry.is_set():
                return alive
            time.sleep(0.1)


def _indent(lines: Sequence[str]) -> str:
    return "\n".join(f"  │ {line}" for line in lines) or "  │ (no output)"


def _answers(spec: ServiceSpec) -> bool:
    host = connect_host(spec.host)
    if spec.ready_path is None:
        from daglab._doctor import port_open

        return port_open(host, spec.port, 1.0)
    import http.client

    conn = http.client.HTTPConnection(host, spec.port, timeout=2.0)
    try:
        conn.request("GET", spec.ready_path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _still_running(procs: Sequence[psutil.Process]) -> list[psutil.Process]:
    import psutil

    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def _group_members(pgid: int) -> list[psutil.Process]:
    import psutil

    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
    return members


def _describe(proc: psutil.Process) -> str:
    import psutil

    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline())[:160]}"
    except psutil.Error:
        return f"pid {proc.pid}"


# --------------------------------------------------------------------------- the session


def write_last_ports(plan: DevPlan, supervisor: Supervisor) -> Path:
    """``.daglab/last_ports.json``: ports, URLs (no token) and pids, written atomically."""
    from daglab._fs import atomic_write

    pids = {child.spec.name: child.popen.pid for child in supervisor.children}
    data: dict[str, Any] = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "supervisor_pid": os.getpid(),
        "notebook": _relative(plan.notebook, plan.root),
    }
    for spec in (plan.dagster, plan.marimo):
        data[spec.name] = {
            "host": spec.host,
            "port": spec.port,
            "url": spec.url,
            "pid": pids.get(spec.name),
            "command": spec.label,
        }
    path = plan.last_ports_path
    atomic_write(path, json.dumps(data, indent=2) + "\n")
    return path


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def run_dev(plan: DevPlan, sink: Sink, *, opener: Callable[[str], object] | None = None) -> None:
    """Run the session until Ctrl-C/SIGTERM (returns) or a child ends.

    A child that ends is an error (exit 3, with its last lines) under ``--ci``, or when it
    failed; a child that exits 0 on its own (marimo's shutdown button) ends the session
    normally. Either way the other child is stopped and nothing is left running.
    """
    options = plan.options
    plan.last_ports_path.parent.mkdir(parents=True, exist_ok=True)  # the log file lives there
    supervisor = Supervisor(
        [plan.dagster, plan.marimo],
        sink,
        grace=options.grace,
        sample_interval=options.sample_interval,
        show_interval=options.show_interval,
        verbose=options.log_level == "DEBUG",
        log_hint=_relative(plan.log_file, plan.root) if plan.log_file else "the log file",
    )
    for level, note in plan.notes:
        supervisor.event(note, level)
    with supervisor.signals():
        try:
            supervisor.start()
            if supervisor.children:
                write_last_ports(plan, supervisor)
            outcome: ChildExit | bool | None = supervisor.wait_ready(
                {"dagster": options.dagster_timeout, "marimo": options.marimo_timeout}
            )
            if outcome is True:
                elapsed = time.monotonic() - supervisor.started_at
                urls = [("Dagster UI", plan.dagster.url), ("marimo", plan.marimo_url)]
                supervisor.show(sink.ready, urls, elapsed)
                supervisor._log.info(
                    "ready after %.1f s: %s and %s", elapsed, plan.dagster.url, plan.marimo.url
                )
                if plan.open_browser:
                    _open(opener, [plan.dagster.url, plan.marimo_url])
                outcome = supervisor.watch()
            if isinstance(outcome, ChildExit):
                _child_ended(outcome, options, supervisor.log_hint)
                supervisor.event(f"{outcome.describe()}; stopping the other")
        finally:
            supervisor.stop()


def _open(opener: Callable[[str], object] | None, urls: Sequence[str]) -> None:
    if opener is None:
        import webbrowser

        opener = webbrowser.open
    for url in urls:
        with contextlib.suppress(Exception):
            opener(url)


def _child_ended(ended: ChildExit, options: DevOptions, log_hint: str) -> None:
    if ended.returncode == 0 and not options.ci:
        return
    raise EnvironmentMissingError(
        f"{ended.describe()} unexpectedly; its last lines:\n" + _indent(ended.tail[-12:]),
        remediation=f"Fix what its output reports (all of it is in {log_hint}), then run"
        " `daglab dev` again.",
        service=ended.name,
        returncode=ended.returncode,
    )
