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
    if code:
        raise SystemExit(code)
