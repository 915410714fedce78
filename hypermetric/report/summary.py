"""The run summary as HTML: jobs per status, durations (total and per task), the failures with their reason
and stderr tail, and the runs recorded under the output root."""

from __future__ import annotations

import time
from html import escape

from hypermetric.report.palette import STATUS_COLORS
from hypermetric.report.state import JobView, ReportState

MAX_FAILURES = 50
MAX_RUNS = 10


def render_counts(state: ReportState) -> str:
    """A row of badges: the number of jobs per status."""
    counts = state.counts()
    badges = [f'<span class="badge" data-status="{s}" style="border-color:{STATUS_COLORS.get(s, "#888")}">'
              f'<b>{n}</b> {s.lower()}</span>' for s, n in counts.items()]
    total = sum(counts.values())
    return (f'<p class="counts"><span class="total">{total} job{"s" if total != 1 else ""}</span> '
            + " ".join(badges) + "</p>")


def render_durations(state: ReportState) -> str:
    """Per task: jobs, how many have a recorded duration, their sum, mean and longest; then the total."""
    rows = []
    overall = 0.0
    for task, jobs in state.by_task().items():
        times = [j.duration for j in jobs if j.duration is not None]
        overall += sum(times)
        mean = sum(times) / len(times) if times else None
        rows.append((task, len(jobs), len(times), sum(times) if times else None, mean, max(times, default=None)))
    head = "".join(f"<th>{h}</th>" for h in ("task", "jobs", "timed", "total", "mean", "longest"))
    body = "".join(f'<tr><td class="key">{escape(t)}</td><td>{n}</td><td>{k}</td><td>{_secs(s)}</td>'
                   f"<td>{_secs(m)}</td><td>{_secs(x)}</td></tr>" for t, n, k, s, m, x in rows)
    return (f'<p>Time spent in the jobs (from each job\'s <code>job.json</code>): <b>{_secs(overall)}</b></p>'
            f'<table class="durations"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def render_failures(state: ReportState) -> str:
    """Each failed job: its id, reason, path to its stderr and the last lines it wrote there."""
    failed = [j for j in state.jobs if j.status == "FAILED"]
    if not failed:
        return '<p class="note">No job has failed.</p>'
    parts = [_failure(job) for job in failed[:MAX_FAILURES]]
    if len(failed) > MAX_FAILURES:
        parts.append(f'<p class="note">and {len(failed) - MAX_FAILURES} more failed jobs</p>')
    return "\n".join(parts)


def _failure(job: JobView) -> str:
    tail = "\n".join(job.stderr) if job.stderr else "(stderr is empty)"
    return (f'<div class="failure"><h4>{escape(job.display)}</h4>'
            f'<p><b>reason:</b> {escape(job.reason or "unknown")} · <code>{escape(job.stderr_path)}</code></p>'
            f"<pre>{escape(tail)}</pre></div>")


def render_outdated(state: ReportState) -> str:
    """The OUTDATED jobs and why (their inputs, values or script changed since they ran)."""
    stale = [j for j in state.jobs if j.status == "OUTDATED"]
    if not stale:
        return ""
    items = "".join(f"<li><code>{escape(j.display)}</code>: {escape(j.reason or '')}</li>" for j in stale[:100])
    return f'<h3>Outdated</h3><ul class="outdated">{items}</ul>'


def render_runs(state: ReportState) -> str:
    """The last recorded runs, newest first: start, duration, counts per status, targets."""
    if not state.runs:
        return f'<p class="note">No run recorded under <code>{escape(state.root)}</code>.</p>'
    rows = []
    for run in reversed(state.runs[-MAX_RUNS:]):
        start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start)) if run.start is not None else "-"
        counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(run.counts.items())) or "(not finished)"
        rows.append(f'<tr><td class="key">{escape(run.name)}</td><td>{start}</td><td>{_secs(run.duration)}</td>'
                    f"<td>{escape(counts)}</td><td>{len(run.targets)}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("run", "start", "duration", "jobs", "targets"))
    return f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(value, 60)
    if minutes < 60:
        return f"{int(minutes)} min {seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"
