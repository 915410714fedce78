"""The signatures of a run's done jobs, kept on disk between the status pass and the run record.

The run record's `signatures` file has a line for every job of the graph, done ones included. A run of the last
jobs of a tensor of a million would otherwise keep the digest of each done job in memory for the whole run only
to write it at the end; once the status pass is over, they are written, in the graph's order, to an unnamed
temporary file (gone with the process, however it ends), and read back a line at a time for the record.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Container, Iterator, Sequence
from itertools import count, repeat

NONE = "-"  # the line of a done job without a signature (`signatures`' own mark)
_BLOCK = 4096  # lines per write


class DoneSignatures:
    """One line per job of a graph, in its order: a done job's digest (or `NONE`), an empty line for the
    others."""

    __slots__ = ("_file",)

    def __init__(self, file: io.TextIOWrapper) -> None:
        self._file = file

    @classmethod
    def spool(cls, order: Sequence[str], not_done: Container[str], digest: Callable[[str, int], str | None],
              learnt: Callable[[Sequence[str], int, int], list[str | None]] | None = None) -> DoneSignatures | None:
        """The lines of `order`'s jobs, written now (`digest(job id, its position)`: a done job's digest, or None;
        `learnt(order, start, stop)`: the digests of positions `start` to `stop` where they are known in one step,
        None elsewhere); None when no temporary file can be made (the caller then keeps the digests in memory)."""
        file = _unnamed()
        if file is None:
            return None
        try:
            for start in range(0, len(order), _BLOCK):
                stop = min(start + _BLOCK, len(order))
                known = learnt(order, start, stop) if learnt is not None else repeat(None)
                file.write("".join("\n" if job_id in not_done else (found or digest(job_id, index) or NONE) + "\n"
                                   for index, job_id, found in zip(count(start), order[start:stop], known)))
            file.flush()
        except OSError:
            file.close()
            return None
        return cls(file)

    def lines(self) -> Iterator[str]:
        """The lines, from the first, without their newlines."""
        file = self._file
        file.seek(0)
        for line in file:
            yield line[:-1]

    def close(self) -> None:
        self._file.close()


def _unnamed() -> io.TextIOWrapper | None:
    """A file of its own in the temporary folder, with no name (nothing is left behind, even by a kill)."""
    folder = os.environ.get("TMPDIR") or "/tmp"
    try:
        fd = os.open(folder, os.O_RDWR | os.O_TMPFILE | os.O_CLOEXEC, 0o600)
    except (AttributeError, OSError):  # no O_TMPFILE (not Linux, or a file system without it)
        path = os.path.join(folder, f".hypermetric-signatures-{os.urandom(8).hex()}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError:
            return None
        try:
            os.unlink(path)
        except OSError:
            pass
    return open(fd, "w+", encoding="utf-8", newline="\n")
