"""The ``daglab`` entry point: a thin face on the library.

Start-up is a feature. ``--version`` and help already rendered once are answered from here with
the standard library alone; everything else loads the Typer app, which loads each command's
library module only when that command runs.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        from daglab._version import __version__

        sys.stdout.write(f"daglab {__version__}\n")
        return
    from daglab._cli import _helpcache

    if _helpcache.serve(args):
        return
    # httpx imports its own command-line client (click, rich, pygments) when imported: about
    # 40 ms that this process never uses. Marking the module absent makes httpx skip it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from daglab._cli._app import run

    code = run(args)
    if argv is None:
        _leave(code)
    if code:
        raise SystemExit(code)


def _leave(code: int) -> None:
    """End the process as soon as the command is done.

    Tearing down an interpreter that has loaded Typer, Rich, pydantic and httpx takes 70 to 150 ms
    after the last byte is written, which a script or `run --wait` would wait for. The exit
    handlers still run (logs flushed, shared clients closed); only the module teardown is skipped.
    With threads still running, the normal exit joins them first.
    """
    import atexit
    import contextlib
    import os
    import threading

    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe has nothing left to say
            stream.flush()
    os._exit(code)
