"""The supervisor: starts the children in process groups of their own, shows and logs their output,
samples their resources, and stops every process they started."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from daglab._errors import ConnectivityError, EnvironmentMissingError
from daglab._host import port_open
from daglab._logging import get_logger
from daglab._sidecar.plan import ServiceSpec
from daglab._sidecar.ports import connect_host

if TYPE_CHECKING:
    import subprocess

    import psutil


TAIL_LINES = 25
#: What :meth:`Supervisor.watch` returns when a watched file changed.
RESTART = "restart"

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
        for spec in self.specs:
            if self.stop_requested.is_set():
                return
            self.children.append(self._start(spec))

    def _start(self, spec: ServiceSpec) -> _Child:
        import subprocess

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
        return child

    def restart(self, name: str) -> None:
        """Stop child ``name`` and everything it started, then start it again in its place."""
        import psutil

        index = next(i for i, c in enumerate(self.children) if c.spec.name == name)
        child = self.children[index]
        self.event(f"restarting {child.spec.label} (pid {child.popen.pid})", "debug")
        self._tree(child)
        watched = dict(child.known)
        self._signal_group(child, child.spec.stop_signal, watched)
        survivors = self._wait_gone(watched, self.grace)
        self._signal_group(child, signal.SIGKILL, watched)
        for proc in survivors:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self._wait_gone(watched, 5.0)
        with contextlib.suppress(Exception):
            child.popen.wait(timeout=5.0)
        if child.reader is not None:
            child.reader.join(timeout=3.0)
        self.children[index] = self._start(child.spec)

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
        """True once every service named in ``timeouts`` answers; False when a stop was
        requested first; the :class:`ChildExit` of a child that ended. A service that stays
        silent past its timeout is a connectivity error (exit 5)."""
        started = time.monotonic()
        next_progress = started + 10.0
        pending = {c.spec.name: c for c in self.children if c.spec.name in timeouts}
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
                elif now - started > timeouts[name]:
                    raise ConnectivityError(
                        f"{spec.label} did not answer at {spec.url} within"
                        f" {timeouts[name]:.0f} s; its last lines:\n"
                        + indent_lines(list(child.tail)[-10:]),
                        remediation=f"Read its output above (all of it is in {self.log_hint});"
                        " `daglab doctor` checks the environment.",
                    )
            if pending and now >= next_progress:
                waiting = ", ".join(c.spec.label for c in pending.values())
                self.event(f"waiting for {waiting} ({now - started:.0f} s)")
                next_progress = now + 10.0
            self._maybe_sample()
        return True

    def watch(self, changed: Callable[[], bool] | None = None) -> ChildExit | str | None:
        """Block until a stop is requested (None), a child ends (its :class:`ChildExit`) or
        ``changed()`` says a watched file changed (:data:`RESTART`)."""
        while not self.stop_requested.wait(0.25):
            ended = self.exited()
            if ended is not None:
                return ended
            if changed is not None and changed():
                return RESTART
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


def indent_lines(lines: Sequence[str]) -> str:
    return "\n".join(f"  │ {line}" for line in lines) or "  │ (no output)"


def _answers(spec: ServiceSpec) -> bool:
    host = connect_host(spec.host)
    if spec.ready_path is None:
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
