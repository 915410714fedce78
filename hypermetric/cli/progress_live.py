"""The live part of the progress view on a terminal: a `rich.progress` bar and the running jobs under it.

The bar shows done/total, the percentage, the elapsed time, an estimate of the time left (from the finished
jobs' durations, see `RunState.eta`) and the counts of running, queued and failed jobs. Under it, each running
job with its elapsed time and its latest output line (a tqdm bar's `\r` updates land here as they come).
Status lines and job output scroll above it (`print`), and the bar is redrawn with every line printed, from
the same state, so the two always agree.
"""

from __future__ import annotations

import time

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
)
from rich.table import Table
from rich.text import Text

from hypermetric.cli.progress_state import RunState, clock

_SHOWN = 12          # running jobs listed under the bar; the rest are counted


class _Bar(Progress):
    """rich's `Progress`, with the running jobs drawn under the bar."""

    def __init__(self, state: RunState, style, **kw) -> None:
        self.state = state
        self.job_style = style
        self._term = kw["console"]  # rich asks for the renderables while its own constructor runs
        super().__init__(**kw)

    def get_renderables(self):
        yield self.make_tasks_table(self.tasks)
        yield self.running_table()

    def running_table(self) -> RenderableType:
        now = time.monotonic()
        width = max(20, self._term.width - 4)
        table = Table.grid(padding=(0, 2))
        table.add_column()
        table.add_column(justify="right")
        table.add_column(max_width=width // 2, no_wrap=True, overflow="ellipsis")
        with self.state.lock:
            running = sorted(self.state.running.values(), key=lambda job: job.since)
        for job in running[:_SHOWN]:
            table.add_row(Text(job.label, self.job_style), f"{now - job.since:6.1f} s", Text(job.latest, "dim"))
        if len(running) > _SHOWN:
            table.add_row(Text(f"... and {len(running) - _SHOWN} more"), "", "")
        return table


class _Times(ProgressColumn):
    """Elapsed time, the estimate of the time left, and the counts, read from the state at each redraw."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        super().__init__()

    def render(self, task) -> Text:
        state = self.state
        with state.lock:
            elapsed, eta, counts = time.monotonic() - state.started, state.eta(), state.counts()
        return Text(f"{clock(elapsed)} elapsed, ETA {clock(eta)}  {counts}")


class LiveBar:
    """Start with `start()`, call `refresh()` after each change of `state`, `print()` to scroll a line."""

    def __init__(self, console: Console, state: RunState, job_style) -> None:
        self.state = state
        self._bar = _Bar(state, job_style, console=console, transient=True, refresh_per_second=4,
                         redirect_stdout=False, redirect_stderr=False,
                         get_time=time.monotonic)
        self._bar.columns = (TextColumn("[bold]jobs"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                             _Times(state))
        self._task = self._bar.add_task("jobs", total=max(1, state.total))

    def start(self) -> None:
        self._bar.start()

    def stop(self) -> None:
        self._bar.stop()

    def print(self, text: Text) -> None:
        self.refresh()
        self._bar.console.print(text, soft_wrap=True)

    def refresh(self) -> None:
        with self.state.lock:
            completed, total = self.state.done, max(1, self.state.total)
        self._bar.update(self._task, completed=completed, total=total)
        self._bar.refresh()
