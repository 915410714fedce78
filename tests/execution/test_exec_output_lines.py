"""A job's output is handed on line by line as it comes, `\r`-redrawn progress lines included, read back from its
`stdout`/`stderr` files: the script writes straight into them, so a runner slow to take the lines never holds
it up."""

from __future__ import annotations

import os
import time

import pytest
from jobs import make_job, read

from hypermetric.execution import follow
from hypermetric.execution.follow import lines
from hypermetric.execution.protocol import execute_job
from hypermetric.store.status import JobStatus

GUARD = 60.0  # seconds: only a broken build waits this long (then the test fails)


def test_carriage_return_lines_come_at_once_and_crlf_is_one_line_end() -> None:
    partial = [b""]
    chunks = [b"load 10%\r", b"\nload 20%\rload 30%\rdone", b"\r", b"x\r\n", b"y\n", b"tail"]
    got = [lines(partial, 0, chunk) for chunk in chunks]
    assert got == [[b"load 10%\r"], [b"load 20%\r", b"load 30%\r"], [b"done\r"], [b"x"], [b"y"], []]
    assert partial[0] == b"tail"


def _appeared(path: str) -> bool:
    """Whether `path` exists, waiting for it (a job makes it) at most `GUARD` seconds."""
    deadline = time.monotonic() + GUARD
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_lines_are_handed_on_while_the_script_runs(tmp_path) -> None:
    """The script goes on only once its first line has been handed on: it was read before the script ended."""
    go = os.path.join(tmp_path, "go")
    job = make_job(tmp_path, "t", f'echo first; echo err >&2; n=0\n'
                                  f'while [ ! -e {go} ] && [ $n -lt 6000 ]; do sleep 0.01; n=$((n + 1)); done\n'
                                  f'[ -e {go} ] && echo second || echo too late; touch "$o"')
    seen: list[tuple[str, str]] = []

    def take(_job, stream: str, line: str) -> None:
        seen.append((stream, line))
        if line == "first":
            open(go, "w").close()

    assert execute_job(job, on_output=take).status is JobStatus.SUCCESS
    assert sorted(seen) == [("stderr", "err"), ("stdout", "first"), ("stdout", "second")]
    assert read(os.path.join(job.workdir, "stdout")) == "first\nsecond\n"


def test_a_slow_taker_of_lines_does_not_hold_the_script_up(tmp_path) -> None:
    """The first line is taken only once the script has written all of its output (far more than a pipe
    holds) and ended: through a pipe the script would have waited for the taker, and the taker for it."""
    written = os.path.join(tmp_path, "written")
    job = make_job(tmp_path, "t", f'seq 1 200000; touch {written}; touch "$o"')
    waited: list[bool] = []
    count = [0]

    def take(_job, stream: str, line: str) -> None:
        if not waited:
            waited.append(_appeared(written))
        count[0] += 1

    assert execute_job(job, on_output=take).status is JobStatus.SUCCESS
    assert waited == [True]
    assert count[0] == 200000


def test_the_last_line_without_its_end_and_progress_lines(tmp_path) -> None:
    seen: list[tuple[str, str]] = []
    job = make_job(tmp_path, "t", 'printf "10%%\\r20%%\\r\\ndone\\n"; printf "no end" >&2; touch "$o"')
    assert execute_job(job, on_output=lambda _j, stream, line: seen.append((stream, line))).ok
    assert seen == [("stdout", "10%\r"), ("stdout", "20%"), ("stdout", "done"), ("stderr", "no end")]  # \r\n: one end


def test_without_process_descriptors_the_lines_still_come_and_the_end_is_seen(tmp_path, monkeypatch) -> None:
    monkeypatch.delattr(follow.os, "pidfd_open", raising=False)
    seen: list[tuple[str, str]] = []
    job = make_job(tmp_path, "t", 'echo one; sleep 0.2; echo two >&2; touch "$o"')
    assert execute_job(job, on_output=lambda _j, stream, line: seen.append((stream, line))).ok
    assert sorted(seen) == [("stderr", "two"), ("stdout", "one")]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_script_sees_files_as_its_output_either_way(tmp_path, streamed) -> None:
    job = make_job(tmp_path, "t", '[ -f /dev/stdout ] && [ -f /dev/stderr ] && touch "$o"')
    on_output = (lambda *_: None) if streamed else None
    assert execute_job(job, on_output=on_output).status is JobStatus.SUCCESS
