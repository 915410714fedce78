"""The run's progress view: subscribes to execution events and shows them on a `rich` console.

On a terminal it keeps a live panel (jobs done out of total, the running jobs with their elapsed time, the
failures so far) below the scrolling job output. Elsewhere it writes plain lines (`<label>: RUNNING`,
`<label>: SUCCESS`, `<label>: FAILED: exit code 3 ≠ 0`) straight to the console's file, with no rich work per
job. Job output lines are prefixed with `<label>> ` unless silent. At the end, a panel per failed job.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console, Group, RenderableType
from rich.errors import MissingStyle
from rich.live import Live
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from hypermetric.execution.events import (
    Event,
    JobFailed,
    JobOutput,
    JobSkipped,
    JobStarted,
    JobSucceeded,
    JobWaiting,
    RunFinished,
    RunStarted,
)
from hypermetric.execution.report import JobResult, RunReport
from hypermetric.store.status import JobStatus

_FALLBACK = {"job.ok": "green", "job.failed": "bold red", "job.running": "cyan", "job.skipped": "yellow",
             "job.waiting": "magenta", "job.pending": "dim", "job.complete": "dim"}
_TAIL = 20


class Progress:
    """Give it each event (`run_graph(..., on_event=view.handle)`); it renders on `console`.

    Use it as a context manager (or call `close`) so a live panel is stopped even when the run raises.
    """

    def __init__(self, console: Console, *, silent: bool = False, verbose: bool = False,
                 live: bool | None = None) -> None:
        self.console = console
        self.silent = silent
        self.verbose = verbose
        self.live_mode = console.is_terminal if live is None else live
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0
        self._running: dict[str, tuple[str, float]] = {}
        self._failed: list[tuple[str, str]] = []
        self._live: Live | None = None

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
        """Stop the live panel (also done on `RunFinished`)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _started(self, event: RunStarted) -> None:
        self._total = event.total
        if self.live_mode and self._live is None:
            self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=False)
            self._live.start()

    def _job_started(self, event: JobStarted) -> None:
        with self._lock:
            self._running[event.job.id] = (event.job.label, time.monotonic())
        retry = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        where = f" in {event.job.workdir}" if self.verbose else ""
        self._line(event.job.label, f"RUNNING{retry}{where}", "job.running")

    def _waiting(self, event: JobWaiting) -> None:
        self._line(event.job.label, f"WAITING: {event.message}", "job.waiting")

    def _output(self, event: JobOutput) -> None:
        if self.silent:
            return
        if self._live is None:
            self._write(f"{event.job.label}> {event.line}")
        else:
            self._live.console.print(Text(f"{event.job.label}> {event.line}"), soft_wrap=True)

    def _succeeded(self, event: JobSucceeded) -> None:
        self._finish(event.job.id)
        self._line(event.job.label, "SUCCESS", "job.ok")

    def _job_failed(self, event: JobFailed) -> None:
        self._finish(event.job.id, counted=not event.will_retry)
        if not event.will_retry:
            with self._lock:
                self._failed.append((event.job.label, event.reason))
        retry = " (will retry)" if event.will_retry else ""
        self._line(event.job.label, f"FAILED: {event.reason}{retry}", "job.failed")

    def _skipped(self, event: JobSkipped) -> None:
        if event.reason == "complete":
            with self._lock:
                self._running.pop(event.job.id, None)
            return
        self._finish(event.job.id)
        self._line(event.job.label, "SKIPPED", "job.skipped")

    def _finished(self, event: RunFinished) -> None:
        self.close()
        report = event.report
        for result in report.failures:
            self.console.print(failure_panel(result, self._style("job.failed")))
        self.console.print(Text(summary(report)), highlight=False)

    def _finish(self, job_id: str, counted: bool = True) -> None:
        with self._lock:
            self._running.pop(job_id, None)
            self._done += counted

    def _line(self, label: str, status: str, style: str) -> None:
        if self._live is None:
            self._write(f"{label}: {status}")
        else:
            text = Text.assemble(f"{label}: ", (status, self._style(style)))
            self._live.console.print(text, soft_wrap=True)

    def _write(self, text: str) -> None:
        file = self.console.file
        file.write(text + "\n")
        file.flush()

    def _style(self, name: str) -> Style:
        try:
            return self.console.get_style(name)
        except MissingStyle:
            return Style.parse(_FALLBACK.get(name, ""))

    def _render(self) -> RenderableType:
        with self._lock:
            running = sorted(self._running.values(), key=lambda item: item[1])
            failed = list(self._failed)
            done, total = self._done, self._total
        now = time.monotonic()
        table = Table.grid(padding=(0, 2))
        for label, since in running[:20]:
            table.add_row(Text(label, self._style("job.running")), f"{now - since:6.1f} s")
        if len(running) > 20:
            table.add_row(Text(f"... and {len(running) - 20} more"), "")
        parts: list[RenderableType] = [Text(f"{done}/{total} jobs done, {len(running)} running"), table]
        parts.extend(Text(f"× {label}: {reason}", self._style("job.failed")) for label, reason in failed[-5:])
        return Group(*parts)


def failure_panel(result: JobResult, style: Style | str = "red") -> Panel:
    """Id, reason, log paths and the last lines of stderr of one failed job."""
    lines = [Text(f"id:     {result.job_id}"), Text(f"reason: {result.reason or 'failed'}"),
             Text(f"stdout: {result.stdout_path}"), Text(f"stderr: {result.stderr_path}")]
    if result.stderr_tail:
        lines.append(Text(f"last {min(_TAIL, len(result.stderr_tail))} lines of stderr:", style="bold"))
        lines.extend(Text(line) for line in result.stderr_tail[-_TAIL:])
    return Panel(Group(*lines), title=Text(f"{result.label} FAILED"), border_style=style, expand=False)


def summary(report: RunReport) -> str:
    """`3 succeeded, 1 failed, 2 skipped, 10 complete in 1.2 s` (and `interrupted`)."""
    names = [(JobStatus.SUCCESS, "succeeded"), (JobStatus.FAILED, "failed"), (JobStatus.SKIPPED, "skipped"),
             (JobStatus.COMPLETE, "complete"), (JobStatus.PENDING, "not run")]
    counts = report.counts()
    parts = [f"{counts[s]} {word}" for s, word in names if counts.get(s)]
    text = ", ".join(parts) or "nothing to do"
    suffix = " (interrupted)" if report.interrupted else ""
    return f"{text} in {report.duration:.1f} s{suffix}"


_HANDLERS = {
    RunStarted: Progress._started, JobStarted: Progress._job_started,
    JobWaiting: Progress._waiting, JobOutput: Progress._output, JobSucceeded: Progress._succeeded,
    JobFailed: Progress._job_failed, JobSkipped: Progress._skipped,
    RunFinished: Progress._finished,
}
