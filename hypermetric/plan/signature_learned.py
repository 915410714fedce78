"""Digests learnt without computing them, kept by the job's place in the graph's order rather than by id.

A status pass of a tensor of a million done jobs learns the digest of each (the one its `job.json` records,
which the status cache holds to be the planned one), because a job downstream that is not done yet may need
them all for its own signature. Kept as a string in a dict, a digest costs over a hundred bytes; here it is
eleven bytes at the job's position in an anonymous mapping (the pages of jobs never learnt cost nothing), and
an id is found again from the order itself: at the position after the one found last (a reduction asks for
its entries in about the order the pass saw them), else through a table of positions built the first time
that guess misses. A digest not of the usual form (20 lowercase hex digits) is kept as it is, by id.
"""

from __future__ import annotations

import mmap
from array import array
from collections.abc import Sequence

_SIZE = 10  # bytes of a digest of the usual form
_SLOT = _SIZE + 1  # a mark (1: learnt), then the digest


class LearnedDigests:
    """The learnt digests of the jobs of one order (the list a status pass goes through, not a copy)."""

    __slots__ = ("_code", "_filled", "_last", "_others", "_positions", "_raw", "_slots", "order")

    def __init__(self, order: Sequence[str]) -> None:
        self.order = order
        self._raw = _zeros(max(1, len(order)) * _SLOT)
        self._code = "i" if len(order) < 1 << 31 else "q"
        self._positions = array(self._code)  # of the digests learnt, for the table
        self._slots: array | None = None  # open addressing, by the id's hash: a position + 1, or 0 (free)
        self._filled = 0  # how many of `_positions` the table holds
        self._others: dict[str, str] = {}  # digests of another form, by id
        self._last = -1  # the position found or learnt last

    def learn(self, index: int, job_id: str, digest: str) -> None:
        """The digest of the job at `index` of the order (`job_id`); the first one learnt stays."""
        start = index * _SLOT
        raw = self._raw
        if raw[start] or (self._others and job_id in self._others):
            return
        if len(digest) == 2 * _SIZE:
            try:
                value = bytes.fromhex(digest)
            except ValueError:
                value = b""
            if value.hex() == digest:
                raw[start + 1:start + _SLOT] = value
                raw[start] = 1
                self._positions.append(index)
                self._last = index
                return
        self._others[job_id] = digest

    def get(self, job_id: str, index: int = -1) -> str | None:
        """The digest learnt for `job_id` (at `index` of the order, if it is there: then it is not looked for),
        or None."""
        order = self.order
        if not 0 <= index < len(order) or order[index] != job_id:
            index = self._find(job_id)
        elif not self._raw[index * _SLOT]:
            index = -1
        if index < 0:
            return self._others.get(job_id) if self._others else None
        start = index * _SLOT + 1
        return self._raw[start:start + _SIZE].hex()

    def block(self, start: int, stop: int) -> list[str | None]:
        """The digests (of the usual form) learnt at positions `start` to `stop` of the order, None where none
        was: what `get` gives each, at a few string slices a job."""
        raw = self._raw[start * _SLOT:stop * _SLOT]
        text = raw.hex()
        return [text[at + 2:at + 2 * _SLOT] if mark else None
                for mark, at in zip(raw[::_SLOT], range(0, len(text), 2 * _SLOT))]

    def __contains__(self, job_id: str) -> bool:
        return self._find(job_id) >= 0 or job_id in self._others

    def __len__(self) -> int:
        return len(self._positions) + len(self._others)

    def _find(self, job_id: str) -> int:
        """The position of `job_id` if its digest (of the usual form) was learnt, else -1."""
        order, raw, last = self.order, self._raw, self._last
        for guess in (last, last + 1):
            if 0 <= guess < len(order) and order[guess] == job_id:
                self._last = guess
                return guess if raw[guess * _SLOT] else -1
        if not self._positions:
            return -1
        slots = self._slots
        if slots is None or self._filled < len(self._positions):
            slots = self._table()
        mask = len(slots) - 1
        h = hash(job_id) & mask
        while found := slots[h]:
            if order[found - 1] == job_id:
                self._last = found - 1
                return found - 1
            h = (h + 1) & mask
        return -1

    def _table(self) -> array:
        """The table of every position learnt, at most half full: the positions learnt since it was made are
        added to it (only when a guess misses: learning costs no look-up in it)."""
        positions, slots = self._positions, self._slots
        if slots is None or 2 * len(positions) > len(slots):
            size = 1 << max(10, (2 * len(positions)).bit_length())
            slots, self._filled = array(self._code, bytes(size * positions.itemsize)), 0
        mask, order = len(slots) - 1, self.order
        for index in positions[self._filled:]:
            h = hash(order[index]) & mask
            while slots[h]:
                h = (h + 1) & mask
            slots[h] = index + 1
        self._slots, self._filled = slots, len(positions)
        return slots


def _zeros(size: int) -> mmap.mmap:
    """`size` zero bytes, made real only where written; private (a forked helper does not share them)."""
    if hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return mmap.mmap(-1, size)
