"""The entries a status pass adds to a task folder's cache, until it writes the cache back.

A first pass over a million finished jobs adds an entry for each; kept as a tuple of a key and a bytes object
each, they would cost about 190 bytes a job through the pass. Here a key is 8 bytes in an array and an entry
its own size in one buffer.
"""

from __future__ import annotations

from array import array
from itertools import islice
from operator import eq


class Added:
    """Entries (of `size` bytes) and their keys, in the order they were added."""

    __slots__ = ("_entries", "_keys", "_size")

    def __init__(self, size: int) -> None:
        self._keys = array("q")
        self._entries = bytearray()
        self._size = size

    def __len__(self) -> int:
        return len(self._keys)

    def append(self, key: int, entry: bytes) -> int:
        """Add an entry; its number."""
        self._keys.append(key)
        self._entries += entry
        return len(self._keys) - 1

    def replace(self, number: int, entry: bytes) -> None:
        self._entries[number * self._size:(number + 1) * self._size] = entry

    def key(self, number: int) -> int:
        return self._keys[number]

    def entry(self, number: int) -> bytes:
        return bytes(self._entries[number * self._size:(number + 1) * self._size])

    def ordered(self) -> list[int]:
        """The entries' numbers by key, and by their bytes where keys are equal (as sorting `(key, entry)`
        pairs orders them)."""
        keys = self._keys
        order = sorted(range(len(keys)), key=keys.__getitem__)
        by_key = array("q", map(keys.__getitem__, order))
        if not any(map(eq, by_key, islice(by_key, 1, None))):
            return order
        start = 0
        while start < len(order):  # (equal keys: the same inode added twice, rare)
            end = start + 1
            while end < len(order) and by_key[end] == by_key[start]:
                end += 1
            order[start:end] = sorted(order[start:end], key=self.entry)
            start = end
        return order
