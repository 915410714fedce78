"""A job's output is handed on line by line as it comes, `\r`-redrawn progress lines included, read back from its
`stdout`/`stderr` files: the script writes straight into them, so a runner slow to take the lines never holds
it up."""

from __future__ import annotations

import os
import select

import pytest
from jobs import make_job, read

from hypermetric.execution import follow
from hypermetric.execution.protocol import execute_job
from hypermetric.store.status import JobStatus

GUARD = 60.0  # seconds: only a broken build waits this long (then the test fails)


@pytest.fixture
def signal(tmp_path):
    """A named pipe between the test and a job, held open for reading and writing by the test, so that
    neither side's `open` waits for the other: `(path, descriptor)`. A job waits for a line with
    `read -t GUARD line < path`; the test waits for one with `_arrived`."""
    path = os.path.join(tmp_path, "signal")
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR)
    yield path, fd
    os.close(fd)


def _arrived(fd: int) -> bool:
    """Whether a line came through the pipe, waiting for it (a job sends it) at most `GUARD` seconds."""
    ready, _, _ = select.select([fd], [], [], GUARD)
    return bool(ready) and os.read(fd, 4096).endswith(b"\n")


def test_lines_are_handed_on_while_the_script_runs(tmp_path, signal) -> None:
    """The script goes on only once its first line has been handed on: it was read before the script ended."""
    path, fd = signal
    job = make_job(tmp_path, "t", f'echo first; echo err >&2\n'
                                  f'read -t {GUARD:g} line < {path} && echo second || echo too late; touch "$o"')
    seen: list[tuple[str, str]] = []

    def take(_job, stream: str, line: str) -> None:
        seen.append((stream, line))
        if line == "first":
            os.write(fd, b"go\n")

    assert execute_job(job, on_output=take).status is JobStatus.SUCCESS
    assert sorted(seen) == [("stderr", "err"), ("stdout", "first"), ("stdout", "second")]
    assert read(os.path.join(job.workdir, "stdout")) == "first\nsecond\n"


def test_a_slow_taker_of_lines_does_not_hold_the_script_up(tmp_path, signal) -> None:
    """The first line is taken only once the script has written all of its output (far more than a pipe
    holds) and said so: through a pipe the script would have waited for the taker, and the taker for it."""
    path, fd = signal
    job = make_job(tmp_path, "t", f'seq 1 200000; echo written > {path}; touch "$o"')
    waited: list[bool] = []
    count = [0]

    def take(_job, stream: str, line: str) -> None:
        if not waited:
            waited.append(_arrived(fd))
        count[0] += 1

    assert execute_job(job, on_output=take).status is JobStatus.SUCCESS
    assert waited == [True]
    assert count[0] == 200000


def test_the_last_line_without_its_end_and_progress_lines(tmp_path) -> None:
    seen: list[tuple[str, str]] = []
    job = make_job(tmp_path, "t", 'printf "10%%\\r20%%\\r\\ndone\\n"; printf "no end" >&2; touch "$o"')
    assert execute_job(job, on_output=lambda _j, stream, line: seen.append((stream, line))).ok
    assert seen == [("stdout", "10%\r"), ("stdout", "20%"), ("stdout", "done"), ("stderr", "no end")]  # \r\n: one end


def test_without_process_descriptors_lines_come_while_the_script_runs(tmp_path, signal, monkeypatch) -> None:
    """Without process descriptors the thread looks now and then whether the script has ended, and reads
    its files meanwhile: the script goes on only once its first line has been handed on."""
    monkeypatch.delattr(follow.os, "pidfd_open", raising=False)
    path, fd = signal
    seen: list[tuple[str, str]] = []

    def take(_job, stream: str, line: str) -> None:
        seen.append((stream, line))
        if line == "one":
            os.write(fd, b"go\n")

    job = make_job(tmp_path, "t", f'echo one; read -t {GUARD:g} line < {path} && echo two >&2; touch "$o"')
    assert execute_job(job, on_output=take).ok
    assert sorted(seen) == [("stderr", "two"), ("stdout", "one")]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_script_sees_files_as_its_output_either_way(tmp_path, streamed) -> None:
    job = make_job(tmp_path, "t", '[ -f /dev/stdout ] && [ -f /dev/stderr ] && touch "$o"')
    on_output = (lambda *_: None) if streamed else None
    assert execute_job(job, on_output=on_output).status is JobStatus.SUCCESS
