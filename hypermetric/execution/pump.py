"""Copying a job's output pipes into its `stdout`/`stderr` files, handing each complete line to a callback."""

from __future__ import annotations

import os
import re
import selectors
from collections.abc import Callable
from typing import TYPE_CHECKING

from hypermetric.store.fdio import write_all

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

_CHUNK = 65536
_LINE_END = re.compile(rb"\r\n|\n|\r")
_CR = b"\r"                # the leftover of a pipe whose last line ended with a lone `\r`
_TICK = 0.05            # how often the pump looks whether the main process has exited
_DRAIN_IDLE = 0.5       # after the group is killed: stop reading pipes only processes outside it still hold


def pump(job: Job, streams: dict[int, tuple[str, int]], on_output: Callable[[Job, str, str], None],
         exited: Callable[[], bool], kill_rest: Callable[[], None]) -> bool:
    """Copy each pipe to its file until EOF, passing each line (without its newline) to `on_output`.

    `streams` maps a pipe's read end to its stream name and file; the read ends are closed at the end. When
    the main process exits (`exited()`), the rest of its process group is killed (a background process holding a
    pipe would otherwise keep this waiting); pipes then still held by processes that left the group are let
    go once they have been idle for a moment. Whether it saw the main process exit (and killed the rest).
    """
    sel = selectors.PollSelector()
    partial = dict.fromkeys(streams, b"")
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    ended = False
    try:
        while sel.get_map():
            events = sel.select(_DRAIN_IDLE if ended else _TICK)
            if ended and not events:
                break
            for key, _ in events:
                _read_one(job, key.fd, streams[key.fd], partial, on_output, sel)
            if not ended and exited():
                ended = True
                kill_rest()
        for fd, rest in partial.items():  # pipes let go of before their EOF
            if rest not in (b"", _CR):
                on_output(job, streams[fd][0], rest.decode("utf-8", errors="replace"))
    finally:
        sel.close()
        for fd in streams:
            os.close(fd)
    return ended


def _read_one(job: Job, fd: int, stream: tuple[str, int], partial: dict[int, bytes],
              on_output: Callable[[Job, str, str], None], sel: selectors.BaseSelector) -> None:
    """Read what pipe `fd` holds into its file and hand its complete lines on; unregister it at EOF."""
    name, file = stream
    data = os.read(fd, _CHUNK)
    if not data:
        sel.unregister(fd)
        if partial[fd] not in (b"", _CR):
            on_output(job, name, partial.pop(fd).decode("utf-8", errors="replace"))
        return
    write_all(file, data)
    for line in _lines(partial, fd, data):
        on_output(job, name, line.decode("utf-8", errors="replace"))


def _lines(partial: dict[int, bytes], fd: int, data: bytes) -> list[bytes]:
    """The complete lines of what pipe `fd` has sent so far, without their newline; a line ended by a lone
    `\r` (a progress bar redrawing itself) keeps its `\r`, so a viewer can show it in place at once.

    After such a line the pipe's leftover is `_CR`, so that a `\n` arriving next (the second half of a
    `\r\n`) ends nothing more."""
    text = partial[fd]
    if text == _CR:
        text = b""
        data = data[1:] if data.startswith(b"\n") else data
    text += data
    out: list[bytes] = []
    start = 0
    for match in _LINE_END.finditer(text):
        cr = match.group() == b"\r"
        out.append(text[start:match.start()] + (b"\r" if cr else b""))
        start = match.end()
    partial[fd] = _CR if out and start == len(text) and out[-1].endswith(b"\r") else text[start:]
    return out
