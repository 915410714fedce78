"""Every way a job's output reaches the view cuts it into lines alike: a local script's files, a `@@runner` job's
files and a Ray job's files. A `\r`-redrawn progress line (tqdm's) is handed on at once, keeping its `\r`, and a
line with no end in sight is handed on in bounded pieces."""

from __future__ import annotations

import os

from jobs import make_job

from hypermetric.execution.output_lines import LONGEST, LineSplitter
from hypermetric.execution.ray_output import OutputTail
from hypermetric.execution.runners import _Tail

PROGRESS = b"load 10%\rload 20%\rx\r\ndone\ntail"
PROGRESS_LINES = ["load 10%\r", "load 20%\r", "x", "done", "tail"]


def test_carriage_return_lines_come_at_once_and_crlf_is_one_line_end() -> None:
    splitter = LineSplitter()
    chunks = [b"load 10%\r", b"\nload 20%\rload 30%\rdone", b"\r", b"x\r\n", b"y\n", b"tail"]
    got = [splitter.feed(chunk) for chunk in chunks]
    assert got == [[b"load 10%\r"], [b"load 20%\r", b"load 30%\r"], [b"done\r"], [b"x"], [b"y"], []]
    assert splitter.rest() == b"tail"
    assert splitter.rest() == b""


def test_a_stream_ended_by_a_progress_line_has_no_rest() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"50%\r") == [b"50%\r"]
    assert splitter.rest() == b""


def test_a_line_without_an_end_is_handed_on_in_bounded_pieces() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a" * (LONGEST - 1)) == []
    assert splitter.feed(b"bb") == [b"a" * (LONGEST - 1) + b"b"]
    assert splitter.feed(b"c" * (2 * LONGEST) + b"\nd") == [b"b" + b"c" * (LONGEST - 1), b"c" * LONGEST, b"c"]
    assert splitter.rest() == b"d"


def test_a_piece_never_splits_a_utf8_character() -> None:
    splitter = LineSplitter()
    text = ("a" * (LONGEST - 1) + "é€b").encode()  # `é` would straddle the piece's end
    assert splitter.feed(text) == [b"a" * (LONGEST - 1)]
    assert splitter.rest().decode() == "é€b"
    text = ("€" * LONGEST).encode()  # three bytes each: no piece of LONGEST bytes ends between two of them
    pieces = splitter.feed(text + b"\n")
    assert b"".join(pieces) == text and all(len(piece) <= LONGEST for piece in pieces)
    assert "".join(piece.decode() for piece in pieces) == "€" * LONGEST  # each piece is whole UTF-8


def test_a_runner_jobs_output_is_cut_like_a_local_jobs(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    seen: list[tuple[str, str]] = []
    tail = _Tail(job, lambda j, stream, line: seen.append((stream, line)))
    with open(os.path.join(job.workdir, "stdout"), "wb") as f:
        f.write(PROGRESS[:5])
        f.flush()
        tail.read()
        f.write(PROGRESS[5:])
    tail.read()
    assert seen == [("stdout", line) for line in PROGRESS_LINES[:-1]]
    tail.flush()
    assert seen[-1] == ("stdout", "tail")


def test_a_ray_jobs_output_is_cut_like_a_local_jobs(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    seen: list[tuple[str, str]] = []
    tail = OutputTail(lambda j, stream, line: seen.append((stream, line)), interval=3600.0)
    tail.watch(job)
    with open(os.path.join(job.workdir, "stdout"), "wb") as f:
        f.write(PROGRESS)
    tail.finish(job.id)
    tail.close()
    assert seen == [("stdout", line) for line in PROGRESS_LINES]
