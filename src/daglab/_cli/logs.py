"""``daglab logs RUN_ID``: a run's event log, page by page or followed to the run's end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, make_client

if TYPE_CHECKING:
    from daglab._runlog import LogPage

EXAMPLES = """[bold]Examples[/]

  daglab logs 3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4c7a11            every event so far

  daglab logs RUN_ID --follow                                   until the run ends

  daglab logs RUN_ID --level ERROR --step multiply

  daglab logs RUN_ID --limit 100 --json                         a page and its cursor

  daglab logs RUN_ID --cursor CURSOR --limit 100 --json         the next page

With --follow --json, each event is one JSON line as it arrives. Exit codes: 0 read (whatever \
the run's outcome: `daglab wait` reports that), 2 bad flags, 5 webserver unreachable, \
7 no run has that id."""


def register(app: typer.Typer) -> None:
    app.command("logs", epilog=EXAMPLES)(logs)


def logs(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run's id.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading until the run ends.")
    ] = False,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            help="Only events at this level or above (DEBUG … CRITICAL).",
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        list[str] | None,
        typer.Option("--step", help="Only events of this step (repeatable).", show_default=False),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="At most this many events, then the cursor of the next page.",
            min=1,
            max=10_000,
            show_default=False,
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        typer.Option(
            "--cursor", help="Start after this cursor (from a previous page).", show_default=False
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="With --follow: stop after this many seconds.",
            min=0.1,
            show_default=False,
        ),
    ] = None,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print a run's event log: every event so far, a page of it, or --follow it to the end.

    Reads the webserver's event log (one request per page of up to 1,000 events); nothing is
    imported from the project. A webserver that goes away during --follow is waited for as
    `daglab wait` waits (dagster.graphql.wait_outage_seconds).
    """
    from daglab import _runlog
    from daglab._errors import UsageError

    if follow and limit is not None:
        raise UsageError(
            "--follow reads to the run's end; --limit pages through what is there",
            remediation="Drop one of --follow and --limit.",
        )
    if timeout is not None and not follow:
        raise UsageError("--timeout bounds --follow", remediation="Add --follow or drop --timeout.")
    where = _runlog.LogFilter.parse(level, step or [])
    state: CliState = ctx.ensure_object(CliState)
    client = make_client(state, port=dagster_port, url=url, token=auth_token)
    printer = _Printer(json_output, streaming=follow)
    with client:
        if follow:
            last = _runlog.follow(
                client, run_id, cursor=cursor, where=where, timeout=timeout, on_page=printer.page
            )
        else:
            last = _runlog.read_all(
                client, run_id, cursor=cursor, limit=limit, where=where, on_page=printer.page
            )
    printer.end(last, paged=limit is not None)


class _Printer:
    def __init__(self, json_output: bool, *, streaming: bool) -> None:
        self.json_output = json_output
        self.streaming = streaming
        self.events: list[dict[str, object]] = []

    def page(self, page: LogPage) -> None:
        if self.json_output and not self.streaming:
            self.events += [event.to_dict() for event in page.events]
            return
        if self.json_output:
            import json
            import sys

            from daglab._logging import redact

            for event in page.events:
                sys.stdout.write(redact(json.dumps(event.to_dict(), default=str)) + "\n")
            sys.stdout.flush()
            return
        from daglab._cli._output import console, safe

        out = console(soft_wrap=True)
        for event in page.events:
            stamp = _clock(event.timestamp)
            where = f" [cyan]{safe(event.step)}[/]" if event.step else ""
            kind = safe(event.type or event.kind)
            style = {"ERROR": "red", "CRITICAL": "red", "WARNING": "yellow"}.get(
                event.level or "", "dim"
            )
            out.print(
                f"[dim]{stamp}[/] [{style}]{safe(event.level or '')}[/]{where} {kind}"
                f" {safe(event.message)}"
            )
            if event.error is not None:
                message, cls, cause = event.error
                out.print(f"    [red]{safe(cls or 'Error')}: {safe(cause or message)}[/]")

    def end(self, last: LogPage, *, paged: bool) -> None:
        more = last.has_more if paged else False
        if self.json_output and not self.streaming:
            from daglab._cli._output import print_json

            print_json(
                {
                    "run": last.run.to_dict(),
                    "events": self.events,
                    "cursor": last.cursor,
                    "has_more": more,
                }
            )
            return
        if self.json_output:
            return
        from daglab._cli._output import console, safe

        err = console(stderr=True)
        err.print(f"[dim]run {safe(last.run.run_id)} is {safe(last.run.status)}[/]")
        if more:
            err.print(
                f"[dim]more: daglab logs {safe(last.run.run_id)} --cursor {safe(last.cursor)}"
                " --limit N[/]"
            )


def _clock(stamp: float | None) -> str:
    if stamp is None:
        return "--:--:--"
    import datetime

    return datetime.datetime.fromtimestamp(stamp).strftime("%H:%M:%S")
