"""The run's progress view: subscribes to execution events and shows them on a `rich` console.

Status lines read `<label>: RUNNING|WAITING|SUCCESS|COMPLETE|SKIPPED|FAILED: <reason>`, and job output lines
`<label>> <line>` (unless silent). A job is QUEUED from the start of the run until its `JobStarted`, which
the engine sends when the backend starts it (on Ray: when its script starts, not when Ray is handed the
task); queued jobs are counted on the bar, not printed one per line. On a terminal a live progress bar (`progress_live`) stays under the
scrolling lines; elsewhere the lines and the closing summary are written straight to the console's file, with
no rich work per job (given a `LazyConsole`, a run off a terminal with no failure to show never imports rich).
A job's `\r`-ended output (a tqdm bar's updates) only moves its latest line beside it in the live view; off a
terminal each such update is a line of its own. At the end, a panel per failed job, with shell-quoted paths
that can be pasted into a shell as they are.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypermetric.cli.console import rich_console
from hypermetric.cli.progress_state import RunState
from hypermetric.execution.events import (
    Event,
    JobFailed,
    JobOutput,
    JobQueued,
    JobSkipped,
    JobStarted,
    JobSucceeded,
    JobWaiting,
    RunFinished,
    RunStarted,
)
from hypermetric.execution.report import JobResult, RunReport
from hypermetric.store.status import JobStatus

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.style import Style

    from hypermetric.cli.console import LazyConsole
    from hypermetric.cli.progress_live import LiveBar

_FALLBACK = {"job.ok": "green", "job.failed": "bold red", "job.running": "cyan", "job.skipped": "yellow",
             "job.waiting": "magenta", "job.pending": "dim", "job.complete": "dim", "job.queued": "dim"}
_TAIL = 20


class Progress:
    """Give it each event (`run_graph(..., on_event=view.handle)`); it renders on `console`.

    Use it as a context manager (or call `close`) so a live bar is stopped even when the run raises.
    """

    def __init__(self, console: Console | LazyConsole, *, silent: bool = False, verbose: bool = False,
                 live: bool | None = None) -> None:
        self.console = console
        self.silent = silent
        self.verbose = verbose
        self.live_mode = console.is_terminal if live is None else live
        self.state = RunState()
        self._live: LiveBar | None = None

    def handle(self, event: Event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    __call__ = handle

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live bar (also done on `RunFinished`)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _started(self, event: RunStarted) -> None:
        with self.state.lock:
            self.state.total = event.total
        if self.live_mode and self._live is None and event.total:
            from hypermetric.cli.progress_live import LiveBar

            self._live = LiveBar(rich_console(self.console), self.state, self._style("job.running"))
            self._live.start()

    def _queued(self, event: JobQueued) -> None:
        with self.state.lock:
            self.state.queue(event.job.id)

    def _job_started(self, event: JobStarted) -> None:
        with self.state.lock:
            self.state.start(event.job.id, event.job.label)
        retry = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        where = f" in {shlex.quote(event.job.workdir)}" if self.verbose else ""
        self._line(event.job.label, f"RUNNING{retry}{where}", "job.running")

    def _waiting(self, event: JobWaiting) -> None:
        self._line(event.job.label, f"WAITING: {event.message}", "job.waiting")

    def _output(self, event: JobOutput) -> None:
        transient = event.line.endswith("\r")
        line = event.line.rstrip("\r")
        with self.state.lock:
            self.state.output(event.job.id, line)
        if self.silent:
            return
        if self._live is None:
            self._write(f"{event.job.label}> {line}")
        elif transient:
            self._live.refresh()
        else:
            from rich.text import Text

            self._live.print(Text(f"{event.job.label}> {line}"))

    def _succeeded(self, event: JobSucceeded) -> None:
        with self.state.lock:
            self.state.finish(event.job.id, duration=event.duration)
        self._line(event.job.label, "SUCCESS", "job.ok")

    def _job_failed(self, event: JobFailed) -> None:
        with self.state.lock:
            self.state.finish(event.job.id, failed=True, duration=event.duration, counted=not event.will_retry)
        retry = " (will retry)" if event.will_retry else ""
        self._line(event.job.label, f"FAILED: {event.reason}{retry}", "job.failed")

    def _skipped(self, event: JobSkipped) -> None:
        with self.state.lock:
            planned = event.job.id in self.state.queued or event.job.id in self.state.running
            self.state.finish(event.job.id)
        if event.reason == "complete":
            if planned:  # finished meanwhile by another run on the same root
                self._line(event.job.label, "COMPLETE", "job.complete")
            return
        self._line(event.job.label, "SKIPPED", "job.skipped")

    def _finished(self, event: RunFinished) -> None:
        self.close()
        report = event.report
        for result in report.failures:
            self.console.print(failure_panel(result, self._style("job.failed")))
        self._write(summary(report))  # plain words: what rich would print, without making it print them

    def _line(self, label: str, status: str, style: str) -> None:
        if self._live is None:
            self._write(f"{label}: {status}")
        else:
            from rich.text import Text

            self._live.print(Text.assemble(f"{label}: ", (status, self._style(style))))

    def _write(self, text: str) -> None:
        file = self.console.file
        file.write(text + "\n")
        file.flush()

    def _style(self, name: str) -> Style:
        from rich.errors import MissingStyle
        from rich.style import Style

        try:
            return self.console.get_style(name)
        except MissingStyle:
            return Style.parse(_FALLBACK.get(name, ""))


def failure_panel(result: JobResult, style: Style | str = "red") -> RenderableType:
    """Id, reason and the last lines of stderr of one failed job in a panel, then its log paths under it,
    outside the box and quoted for a shell (a case directory may hold `&`, a root spaces), so that they can
    be pasted whole at any terminal width."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    lines = [Text(f"id:     {result.job_id}"), Text(f"reason: {result.reason or 'failed'}")]
    if result.stderr_tail:
        lines.append(Text(f"last {min(_TAIL, len(result.stderr_tail))} lines of stderr:", style="bold"))
        lines.extend(Text(line) for line in result.stderr_tail[-_TAIL:])
    panel = Panel(Group(*lines), title=Text(f"{result.label} FAILED"), border_style=style, expand=False)
    return Group(panel, Text(f"  stdout: {shlex.quote(result.stdout_path)}", no_wrap=True, overflow="ignore"),
                 Text(f"  stderr: {shlex.quote(result.stderr_path)}", no_wrap=True, overflow="ignore"))


def summary(report: RunReport) -> str:
    """`3 succeeded, 1 failed, 2 skipped, 10 complete in 1.2 s` (and `interrupted`)."""
    names = [(JobStatus.SUCCESS, "succeeded"), (JobStatus.FAILED, "failed"), (JobStatus.SKIPPED, "skipped"),
             (JobStatus.COMPLETE, "complete"), (JobStatus.PENDING, "not run")]
    counts = report.counts()
    parts = [f"{counts[s]} {word}" for s, word in names if counts.get(s)]
    text = ", ".join(parts) or "nothing to do"
    suffix = " (interrupted)" if report.interrupted else ""
    return f"{text} in {report.duration:.1f} s{suffix}"


_HANDLERS: dict[type, Callable[[Progress, Any], None]] = {
    RunStarted: Progress._started, JobQueued: Progress._queued, JobStarted: Progress._job_started,
    JobWaiting: Progress._waiting, JobOutput: Progress._output, JobSucceeded: Progress._succeeded,
    JobFailed: Progress._job_failed, JobSkipped: Progress._skipped,
    RunFinished: Progress._finished,
}
