"""The progress view: plain status lines off a terminal, a live panel on one, failure panels at the end."""

from __future__ import annotations

import io
import os
import threading

from jobs import consume, make_graph, make_job
from rich.console import Console

from hypermetric.cli.progress import Progress, summary
from hypermetric.execution.engine import RunOptions, run_graph


def _graph(tmp_path):
    a = make_job(tmp_path, "a", 'echo from-a; echo "bad thing" >&2; exit 3', case=[("A", "y")])
    b = consume(tmp_path, "b", 'touch "$o"', a)
    c = make_job(tmp_path, "c", 'echo from-c; touch "$o"')
    return make_graph(tmp_path, a, b, c)


def _plain() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=100), out


def test_plain_lines(tmp_path) -> None:
    console, out = _plain()
    view = Progress(console)
    report = run_graph(_graph(tmp_path), RunOptions(keep_going=True), view)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[:3] == ["a[A: y]: RUNNING", "a[A: y]> from-a", "a[A: y]> bad thing"]
    assert "a[A: y]: FAILED: exit code 3 ≠ 0" in lines
    assert "b[default]: SKIPPED" in lines
    assert "c[default]> from-c" in lines and "c[default]: SUCCESS" in lines
    assert "a?A=y" in text and f"{report.results['a?A=y'].stderr_path}" in text
    assert "1 succeeded, 1 failed, 1 skipped" in text


def test_silent_drops_job_output_but_keeps_status(tmp_path) -> None:
    console, out = _plain()
    run_graph(_graph(tmp_path), RunOptions(keep_going=True, silent=True), Progress(console, silent=True))
    text = out.getvalue()
    assert "from-c" not in text and "c[default]: SUCCESS" in text
    assert "bad thing" in text  # the failure panel still shows the stderr tail


def test_live_view_on_a_terminal(tmp_path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with Progress(console) as view:
        assert view.live_mode
        report = run_graph(_graph(tmp_path), RunOptions(keep_going=True), view.handle)
    text = out.getvalue()
    assert report.exit_code == 1
    assert "a[A: y]> from-a" in text and "FAILED" in text and "exit code 3 ≠ 0" in text
    assert view._live is None


def test_complete_jobs_print_nothing(tmp_path) -> None:
    graph = make_graph(tmp_path, make_job(tmp_path, "t", 'touch "$o"'))
    run_graph(graph, RunOptions(silent=True))
    console, out = _plain()
    report = run_graph(graph, RunOptions(), Progress(console))
    assert out.getvalue().splitlines() == [summary(report)]
    assert summary(report).startswith("1 complete in ")


def test_verbose_names_the_job_directory(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    console, out = _plain()
    run_graph(make_graph(tmp_path, job), RunOptions(verbose=True), Progress(console, verbose=True))
    assert f"t[default]: RUNNING in {job.workdir}" in out.getvalue().splitlines()


def test_lock_wait_is_shown(tmp_path) -> None:
    from hypermetric.store import lock

    job = make_job(tmp_path, "t", 'touch "$o"')
    os.makedirs(job.workdir)
    console, out = _plain()
    held = lock.acquire(lock.lock_path(job))
    timer = threading.Timer(0.3, lock.release, [held])
    timer.start()
    run_graph(make_graph(tmp_path, job), RunOptions(lock_interval=0.1), Progress(console))
    timer.join()
    waits = [line for line in out.getvalue().splitlines() if line.startswith("t[default]: WAITING: lock ")]
    assert waits and "t[default]: SUCCESS" in out.getvalue()
