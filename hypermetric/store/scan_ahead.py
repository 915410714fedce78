"""The file checks of a large status pass, shared with forked helpers: one per other CPU.

A pass over a million done jobs is mostly waiting on the kernel: two `stat`s and an `access` a job (see
store/scan.py). Threads do not help (each call's Python part holds the lock that all threads share), so a pass of
many jobs forks helper processes, each of which does the file checks of some blocks of jobs, in the graph's
order, looks what they found up in its copy of the status cache, and sends back per job a record of both
(store/scan_record.py). The pass itself checks the other blocks, and takes each helper's answers as it reaches
its blocks (or checks a block itself when its answers have not come yet); everything else (reading files,
deciding, what the status cache learns) stays in the pass, which so finds the same statuses as it would alone:
the checks are made after the pass began, as its own are.

A helper is forked only while the process has a single thread (no lock can be held by another thread at the
fork), and leaves with `os._exit` (nothing flushed, no handler run). It is killed and reaped when the pass ends
or is left (an error, an interrupt); a helper that died (or a pipe that broke) leaves its blocks to the pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from hypermetric.store.fdio import write_all
from hypermetric.store.scan_record import RECORD, UNCHECKED, CacheOf, Folders, look

_MAX_HELPERS = 3
# In each round of blocks, the pass checks its first `_OWN_BLOCKS` and each helper the next `_HELPER_BLOCKS`: a
# helper's job costs the pass a fifth of one it checks itself, and on two vCPUs (hyperthreads of one core) 2
# in 5 kept both processes about equally busy (a million done jobs: 7.0-7.3 s, against 8.3 s with 1 in 3).
_OWN_BLOCKS, _HELPER_BLOCKS = 2, 3
BLOCK = 2048  # jobs (the pass's default: store/staleness.py)
_PIPE_SIZE = 1 << 20  # a helper works ahead of the pass by as much as its pipe holds

Locate = Callable[[str], "tuple[str, tuple[str, ...] | None]"]


def helpers_for(jobs: int, least: int, wanted: int | None = None) -> int:
    """How many helpers a pass of `jobs` jobs forks (one per other CPU, or `wanted`): none for a pass of fewer
    than `least`, or where forking is not safe."""
    if jobs < least or not hasattr(os, "fork"):
        return 0
    import threading  # (what only a large pass needs is imported only by one)

    if threading.active_count() != 1:
        return 0
    if wanted is not None:
        return wanted
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, _MAX_HELPERS))


def start(order: Sequence[str], locate: Locate, cache_of: CacheOf, least: int, block: int,
          wanted: int | None = None, wait: bool = False) -> Ahead | None:
    """The helpers of a pass over `order` (see `helpers_for`), or None when none is forked."""
    helpers = helpers_for(len(order), least, wanted)
    return Ahead(order, locate, cache_of, helpers, block, wait) if helpers else None


class Ahead:
    """The helpers of one pass, and the answers of the block the pass is in. `owner(block)`: -1 for the pass
    itself, else the helper; in each round of `_OWN_BLOCKS + _HELPER_BLOCKS * helpers` blocks the pass keeps
    the first `_OWN_BLOCKS` (it also decides every job: so each process is busy about as long as the others)."""

    def __init__(self, order: Sequence[str], locate: Locate, cache_of: CacheOf, helpers: int, block: int = BLOCK,
                 wait: bool = False) -> None:
        self._order, self._size, self._helpers = order, block, helpers
        self._round = _OWN_BLOCKS + _HELPER_BLOCKS * helpers
        self._pids: list[int] = []
        self._pipes: list[int | None] = []
        self._got = [bytearray() for _ in range(helpers)]  # answers read and not taken yet, per helper
        self._owed = [0] * helpers  # bytes of answers to drop: of blocks the pass checked itself
        self._wait = wait
        self._buffer: bytes | None = None  # the answers of the block under way, when a helper's
        self._start = self._end = 0
        self._block = -1  # the block under way
        try:
            for helper in range(helpers):
                self._fork(helper, locate, cache_of)
        except BaseException:
            self.close()
            raise

    def owner(self, block: int) -> int:
        position = block % self._round
        return -1 if position < _OWN_BLOCKS else (position - _OWN_BLOCKS) // _HELPER_BLOCKS

    def _fork(self, helper: int, locate: Locate, cache_of: CacheOf) -> None:
        import fcntl

        read, write = os.pipe()
        try:
            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        except (AttributeError, OSError):
            pass  # a smaller pipe: the helper works less far ahead
        pid = os.fork()
        if pid == 0:  # the helper
            status = 1
            try:
                os.close(read)
                self._serve(helper, locate, cache_of, write)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pids.append(pid)
        self._pipes.append(read)

    def _serve(self, helper: int, locate: Locate, cache_of: CacheOf, out: int) -> None:
        """In the helper: check the jobs of its blocks, in order, and write the answers of each block."""
        import gc

        gc.disable()  # a collection would write to every object's page, which the parent shares
        folders: Folders = {}
        order, size = self._order, self._size
        for block in range((len(order) + size - 1) // size):
            if self.owner(block) != helper:
                continue
            write_all(out, b"".join(look(*locate(job_id), folders, cache_of)
                                    for job_id in order[block * size:(block + 1) * size]))

    def get(self, index: int) -> tuple[Any, ...] | None:
        """What a helper found of the job at `index` in the order (asked in order): its record, unpacked
        (store/scan_record.py); or None when the pass is to check it itself."""
        if index >= self._end:
            self._next(index)
        buffer = self._buffer
        if buffer is None:
            return None
        record = RECORD.unpack_from(buffer, (index - self._start) * RECORD.size)
        return None if record[0] & UNCHECKED else record

    def _next(self, index: int) -> None:
        """Take the answers of the block of `index` (those of blocks passed over, none of whose jobs was asked
        about, are read and dropped: each helper's answers come in order)."""
        block = index // self._size
        for skipped in range(self._block + 1, block):
            self._take(skipped)
        self._buffer, self._block = self._take(block), block

    def _take(self, block: int) -> bytes | None:
        size = self._size
        self._start, self._end = block * size, min((block + 1) * size, len(self._order))
        helper = self.owner(block)
        return None if helper < 0 else self._receive(helper, (self._end - self._start) * RECORD.size)

    def _receive(self, helper: int, length: int) -> bytes | None:
        """A block's answers from its helper if they have come (or, `wait`ing, once they come); else None, and
        the pass checks the block itself, so that a helper held back on a busy machine never holds the pass
        back: those answers are dropped when they come. None too once the helper is gone."""
        got, owed = self._got[helper], self._owed[helper]
        self._fill(helper, got, owed + length)
        drop = min(owed, len(got))
        del got[:drop]
        owed = self._owed[helper] = owed - drop
        if not owed and len(got) >= length:
            answers = bytes(got[:length])
            del got[:length]
            return answers
        self._owed[helper] = owed + length
        return None

    def _fill(self, helper: int, got: bytearray, least: int) -> None:
        """Read the helper's pipe until `got` holds `least` bytes, the pipe is empty (unless `wait`), or ends."""
        import select

        pipe = self._pipes[helper]
        while pipe is not None and len(got) < least:
            if not self._wait and not select.select([pipe], [], [], 0)[0]:
                return
            try:
                part = os.read(pipe, least - len(got))
            except OSError:
                part = b""
            if not part:
                os.close(pipe)
                self._pipes[helper] = pipe = None
                return
            got += part

    def close(self) -> None:
        """Stop and reap every helper (one that finished is a zombie until then), and close the pipes."""
        for pid in self._pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        self._pids.clear()
        for i, pipe in enumerate(self._pipes):
            if pipe is not None:
                os.close(pipe)
                self._pipes[i] = None
