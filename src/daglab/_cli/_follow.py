"""Showing a run while it is waited for: a live status line at a terminal, one line per step
change elsewhere (a CI log), each step's error printed once, when the step fails."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

    from daglab._client import Run
    from daglab._events import Step

MARKS = {
    "running": "[cyan]▸[/]",
    "retrying": "[yellow]↻[/]",
    "succeeded": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "skipped": "[dim]-[/]",
}


class RunProgress:
    """Receives run states (``update``) and step changes (``steps``) and prints them."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.live = out.is_terminal
        self.status: Status | None = None
        self.run_status: str | None = None
        self.steps: dict[str, Step] = {}
        #: Steps whose error was printed already (the final report does not repeat them).
        self.reported: set[str] = set()

    def __enter__(self) -> RunProgress:
        if self.live:
            self.status = self.out.status("starting…")
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()

    def update(self, run: Run, elapsed: float) -> None:
        if self.status is not None:
            self.status.update(self._line(run, elapsed))
        elif run.status != self.run_status:
            self.out.print(f"run {run.status} · {elapsed:.1f} s")
        self.run_status = run.status

    def on_steps(self, changed: list[Step]) -> None:
        from daglab._cli._output import safe

        for step in changed:
            self.steps[step.key] = step
            took = step.elapsed()
            took_text = f" in {took:.1f} s" if step.finished and took is not None else ""
            line = f"  {MARKS.get(step.status, '·')} {safe(step.key)} {step.status}{took_text}"
            failure = step.failure() if step.status == "failed" else None
            if failure is not None:
                line += f": {safe(failure.cause or failure.message)}"
                self.reported.add(step.key)
            if self.live and step.status in ("running", "succeeded"):
                continue  # the status line shows those
            self.out.print(line, soft_wrap=True)

    def _line(self, run: Run, elapsed: float) -> str:
        from daglab._cli._output import safe

        now = time.time()
        running = [s for s in self.steps.values() if s.status in ("running", "retrying")]
        done = sum(1 for s in self.steps.values() if s.finished)
        parts = [f"{run.status} · {elapsed:.1f} s"]
        if self.steps:
            parts.append(f"{done}/{len(self.steps)} steps done")
        for step in running[:3]:
            took = step.elapsed(now)
            parts.append(f"{safe(step.key)} {took:.1f} s" if took is not None else safe(step.key))
        if len(running) > 3:
            parts.append(f"+{len(running) - 3} running")
        return " · ".join(parts)
