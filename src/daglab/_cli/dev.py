"""``daglab dev``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from daglab._cli._context import CliState

if TYPE_CHECKING:
    from rich.console import Console

EXAMPLES = """[bold]Examples[/]

  daglab dev                                  the last scaffolded notebook, browser opens

  daglab dev --notebook notebooks/assets/orders_explore.py --no-open

  daglab dev --dagster-port 3100 --marimo-port 3110 --env-file .env

  daglab dev --port-range 4000-4020 --sandbox

  daglab dev --ci --notebook nb.py            no prompt, no browser; a crash exits non-zero

Exit codes: 0 stopped with Ctrl-C/SIGTERM (or marimo's shutdown button), 2 usage (bad
--port-range, no notebook with --ci), 3 Dagster/marimo/project missing or a child died,
5 a UI did not come up, 7 notebook or --env-file invalid, 8 no free port."""

STYLES = {"dagster": "magenta", "marimo": "green", "daglab": "cyan"}
LEVEL_STYLES = {"warning": "yellow", "error": "bold red", "debug": "dim"}


def register(app: typer.Typer) -> None:
    app.command("dev", epilog=EXAMPLES)(dev)


def dev(
    ctx: typer.Context,
    notebook: Annotated[
        Path | None,
        typer.Option(
            "--notebook",
            help="Notebook to edit (default: the last scaffolded one, else a prompt).",
            show_default=False,
        ),
    ] = None,
    dagster_port: Annotated[
        int | None,
        typer.Option(
            "--dagster-port",
            help="Dagster UI port (default: dagster.port); a busy one moves to the next free.",
            min=1,
            max=65535,
            metavar="PORT",
            show_default=False,
        ),
    ] = None,
    marimo_port: Annotated[
        int | None,
        typer.Option(
            "--marimo-port",
            help="marimo port (default: marimo.port); a busy one moves to the next free.",
            min=1,
            max=65535,
            metavar="PORT",
            show_default=False,
        ),
    ] = None,
    port_range: Annotated[
        str | None,
        typer.Option(
            "--port-range",
            help="Ports to pick from when a port is busy, START-END (default: the next 10).",
            metavar="START-END",
            show_default=False,
        ),
    ] = None,
    open_browser: Annotated[
        bool | None,
        typer.Option(
            "--open/--no-open",
            help="Open both UIs in the browser (default: defaults.open_browser).",
            show_default=False,
        ),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            help="Dotenv file (KEY=VALUE lines) added to both children's environment.",
            show_default=False,
        ),
    ] = None,
    ci: Annotated[
        bool,
        typer.Option(
            "--ci", help="Non-interactive: no prompt, no browser; any child ending exits 3."
        ),
    ] = False,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox", help="The notebook's helpers refuse mutations not explicitly allowed."
        ),
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address both UIs listen on; beyond loopback, marimo's token stays required.",
        ),
    ] = "127.0.0.1",
    no_token: Annotated[
        bool,
        typer.Option(
            "--no-token", help="Serve marimo without its access token (loopback hosts only)."
        ),
    ] = False,
) -> None:
    """Start the Dagster UI and the marimo editor side by side, until Ctrl-C.

    Runs [cyan]dagster dev[/] ([cyan]dg dev[/] in a dg project) and [cyan]marimo edit NOTEBOOK
    --watch --headless[/] in process groups of their own, shows their output as one prefixed
    stream (also in the log file), samples their CPU and memory, and writes the ports used to
    [cyan].daglab/last_ports.json[/]. marimo keeps its token: the URL printed once on the
    terminal carries it; logs mask it. Ctrl-C or SIGTERM stops both, and everything they
    started.
    """
    from daglab import _sidecar
    from daglab._errors import UsageError
    from daglab._logging import get_logger

    state: CliState = ctx.ensure_object(CliState)
    parsed_range = _sidecar.parse_port_range(port_range) if port_range is not None else None
    _sidecar.check_host(host, token=not no_token)
    loaded = state.load(overrides={"dagster.port": dagster_port, "marimo.port": marimo_port})
    _sidecar.dagster_command(loaded.project)  # no project or no code: exit 3 before any prompt
    chosen = _sidecar.resolve_notebook(loaded, notebook, Path.cwd())
    if chosen is None:
        choices = _sidecar.notebook_choices(loaded.notebooks_dir)
        chosen = _pick_notebook(choices, ci=ci, show=loaded.project.relative)
        if chosen is None:
            raise UsageError(
                "no notebook to open: none was given with --notebook and none has been"
                " scaffolded yet",
                remediation="Pass --notebook PATH, or create one with `daglab scaffold --asset"
                " KEY` (or --job NAME).",
            )
    get_logger("dev").info("notebook: %s", loaded.project.relative(chosen))
    options = _sidecar.DevOptions(
        dagster_port=dagster_port,
        marimo_port=marimo_port,
        port_range=parsed_range,
        host=host,
        token=not no_token,
        env_file=env_file,
        ci=ci,
        open_browser=open_browser,
        sandbox=sandbox,
        log_level=state.log_level,
    )
    plan = _sidecar.build_plan(loaded, chosen, options)
    terminal = Terminal()
    terminal.event(
        f"{plan.dagster.label} on port {plan.dagster.port}, marimo on port {plan.marimo.port},"
        f" notebook {loaded.project.relative(plan.notebook)}"
    )
    _sidecar.run_dev(plan, terminal)


def _pick_notebook(
    choices: Sequence[Path], *, ci: bool, show: Callable[[Path], str]
) -> Path | None:
    """A notebook chosen at a prompt; None without a terminal, under --ci, or with no choice."""
    if ci or not choices or not sys.stdin.isatty():
        return None
    from rich.prompt import IntPrompt

    from daglab._cli._output import console, safe

    out = console(stderr=True)
    out.print("[bold]Which notebook?[/]")
    for index, path in enumerate(choices, start=1):
        out.print(f"  {index:>2}. {safe(show(path))}")
    picked = IntPrompt.ask(
        "Notebook",
        choices=[str(i) for i in range(1, len(choices) + 1)],
        default=1,
        console=out,
        show_choices=False,
    )
    return choices[picked - 1]


class Terminal:
    """The terminal side of the session: one prefixed, coloured stream on stdout.

    Children's lines are masked (tokens, credentials) like the log file; only the marimo URL
    printed by :meth:`ready` carries the token, once, so a person can open it.
    """

    def __init__(self, console: Console | None = None) -> None:
        from daglab._cli._output import console as make_console

        self.out = console or make_console()
        self.lock = threading.Lock()

    def _print(self, service: str, body: object, style: str | None = None) -> None:
        from rich.text import Text

        prefix = Text(f"{service:<7} │ ", style=STYLES.get(service, ""))
        text = body if isinstance(body, Text) else Text(str(body), style=style or "")
        with self.lock:
            self.out.print(prefix + text, soft_wrap=True)

    def line(self, service: str, text: str) -> None:
        from rich.text import Text

        from daglab._logging import redact

        self._print(service, Text.from_ansi(redact(text)))

    def event(self, text: str, level: str = "info") -> None:
        from daglab._logging import redact

        self._print("daglab", redact(text), LEVEL_STYLES.get(level))

    def ready(self, urls: Sequence[tuple[str, str]], elapsed: float) -> None:
        from rich.text import Text

        self._print("daglab", f"both UIs are up after {elapsed:.1f} s (Ctrl-C stops them)", "bold")
        for label, url in urls:  # not redacted: this is the one place the usable URL appears
            self._print("daglab", Text.assemble((f"  {label:<12}", "bold"), (url, "underline")))
