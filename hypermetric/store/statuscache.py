"""The status cache: what the status check of finished jobs read, kept with the identity of the files it read
(as git's index keeps stat data), so that the jobs of a large, mostly finished tensor are not read again by
every command.

One file per task folder, `ROOT/.status/<dotted task path>` (never inside a job directory, whose list of files
is shared with HyperMake). Each entry is a job whose `exitcode` read 0: the identity (device, inode, size,
mtime, ctime) of its `exitcode` and of its `job.json` (zeros when it has none), the signature recorded at
the head of its `job.json`, and the fingerprint of the task (plan/signature_fingerprint.py) under which that
signature was found equal to the planned one (0 when it was not). A job whose two files still have those
identities is finished with that signature, and neither file is read; when its task's fingerprint is still
the same, its planned signature is that one, and it is not computed either. Entries are found by the files'
identities, and hold only for the job directory of the name they were written for (a directory moved by
hand is read again).

A file changed shortly before the status pass began is not cached: it could change again within the file
system's timestamp granularity (or a clock's skew) and keep its identity. Each entry carries a hash of all of
itself with the identities, so a damaged entry is never used, and a file that is missing, short, damaged, of
another format or written by another Python reads as empty. The cache only ever saves reading: without it
every status is the same.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import chain

from hypermetric.store.identity import Identity
from hypermetric.store.layout import STATUS_CACHE
from hypermetric.store.statuscache_added import Added
from hypermetric.store.statuscache_file import Source, write

MARGIN_NS = 2_000_000_000  # files changed this close to the pass's start are read, never cached
_MAGIC = b"hypermetric status cache 2\n"
_TAG = f"{sys.implementation.cache_tag} {sys.byteorder} {struct.calcsize('q')}".encode()
_HEADER = struct.Struct("=32s32sqq")  # magic, tag, entries, the most jobs one pass looked up in the folder
_KEY = struct.Struct("=q")  # the `exitcode`'s inode: the entries are sorted by it
_ENTRY = struct.Struct("=qqqqB16sq")  # exitcode ctime, job.json inode and ctime, check hash, signature, print
_MAX_SIGNATURE = 16  # bytes: a signature of up to 32 hex digits is cached
_Part = bytes | tuple[int, int]  # of a file written back: bytes, or a range of the old file's
_BLOCK, _BLOCKS = 64, 64  # entries read at once (3.6 KB), and blocks kept: jobs are seen in about key order


Hit = tuple[int, int, bytes, int]  # an entry that matched: its index, signature length, signature and fingerprint


def _check(e: Identity, record: Identity, name: int, length: int, signature: bytes, tag: int) -> int:
    """A hash of a whole entry and the job directory's name (`name_hash`); a tuple of ints hashes the same in
    every process of one Python."""
    return hash((*e, *record, name, length, int.from_bytes(signature, "little"), tag))


def _packed(signature: str | None) -> tuple[int, bytes] | None:
    """A recorded signature as stored (its length in bytes and the bytes), or None when it is not the hex
    digest the job protocol writes (such a job is read every time)."""
    if not signature:
        return 0, bytes(_MAX_SIGNATURE)
    if len(signature) > 2 * _MAX_SIGNATURE:
        return None
    try:
        raw = bytes.fromhex(signature)
    except ValueError:
        return None
    if raw.hex() != signature:
        return None
    return len(raw), raw.ljust(_MAX_SIGNATURE, b"\0")


class FolderCache:
    """The cache of one task folder for one status pass: looked up, added to, and written back once. Its
    entries are read a block at a time (store/statuscache_file.py), so a folder of a million cached jobs costs
    the pass its keys (8 bytes a job), not a buffer of the whole file."""

    __slots__ = ("_added", "_blocks", "_changes", "_count", "_entries", "_file", "_hits", "_keys", "_last",
                 "_limit", "_lookups", "_most", "_next", "path")

    def __init__(self, path: str, limit_ns: int) -> None:
        self.path = path
        self._limit = limit_ns  # files changed at or after this time are not cached
        self._file, self._keys, self._most = _load(path)  # (the file: a `Source`)
        self._count = len(self._keys)
        self._entries = _HEADER.size + _KEY.size * self._count
        self._blocks: dict[int, bytes] = {}  # the blocks of entries read last, by number
        self._hits: bytearray | None = None
        self._lookups = 0
        self._next = 0  # the entry after the last one found: the likeliest next
        self._added = Added(_ENTRY.size)
        self._changes: dict[int, bytes] = {}  # entries of the file given a fingerprint: index -> new entry
        self._last: tuple | None = None  # the entry last found or added, and what it was made of

    def lookup(self, exitcode: Identity, record: Identity, name: int) -> tuple[str, int] | None:
        """(signature, fingerprint) of a finished job in the directory whose name hashes to `name`, whose
        `exitcode` and `job.json` have these identities (`ABSENT`: no `job.json`): the signature it recorded
        (`""` when none), and the fingerprint of its task when that was its planned signature (else 0); None
        when the cache does not know them."""
        return self.found(self.find(exitcode, record, name), exitcode, record, name)

    def find(self, exitcode: Identity, record: Identity, name: int) -> Hit | None:
        """The entry of files with these identities, if any, without counting it as used: what a helper of
        the pass (store/scan_ahead.py) looks up for the pass, which then hands it to `found`."""
        ino, keys, count = exitcode[1], self._keys, self._count
        i = self._next  # inodes are handed out in about the order jobs finish, which is the order they are seen
        if i < count and keys[i] == ino and (hit := self._entry(i, exitcode, record, name)) is not None:
            return hit
        i = bisect_left(keys, ino)
        while i < count and keys[i] == ino:
            hit = self._entry(i, exitcode, record, name)
            if hit is not None:
                return hit
            i += 1
        return None

    def found(self, hit: Hit | None, exitcode: Identity, record: Identity, name: int,
              here: bool = True) -> tuple[str, int] | None:
        """A lookup's answer, `hit` (from `find`: `here`, or in a helper), counted: its entry is used, and is the
        one `confirm` changes. A helper may have read another version of the file (a concurrent command
        replaced it meanwhile): its entry then holds for the files all the same, but may not be this one's."""
        self._lookups += 1
        self._last = None
        if hit is None:
            return None
        i, length, signature, tag = hit
        if i < self._count and self._keys[i] == exitcode[1]:
            if self._hits is None:
                self._hits = bytearray(self._count)
            self._hits[i] = 1
            self._next = i + 1
            self._last = (i, exitcode, record, name, length, signature, here)
        return signature[:length].hex(), tag

    def _entry(self, i: int, exitcode: Identity, record: Identity, name: int) -> Hit | None:
        """Entry `i` if it is of files with these identities, else None."""
        if self._changes and (changed := self._changes.get(i)) is not None:
            fields = _ENTRY.unpack_from(changed)  # (given a fingerprint earlier in this pass)
        else:
            block, at = divmod(i, _BLOCK)
            data = self._blocks.get(block) or self._read(block)
            if data is None:
                return None  # (not readable any more: the job's files are read)
            fields = _ENTRY.unpack_from(data, at * _ENTRY.size)
        ctime, j_ino, j_ctime, check, length, signature, tag = fields
        if ctime != exitcode[4] or j_ino != record[1] or j_ctime != record[4]:
            return None
        if check != _check(exitcode, record, name, length, signature, tag):
            return None
        return i, length, signature, tag

    def _read(self, block: int) -> bytes | None:
        """Block `block` of the entries, read and kept (in place of the one read first), or None: unreadable."""
        count = min(_BLOCK, self._count - block * _BLOCK)
        data = self._file.read(self._entries + block * _BLOCK * _ENTRY.size, count * _ENTRY.size)
        if data is not None:
            blocks = self._blocks
            if len(blocks) >= _BLOCKS:
                del blocks[next(iter(blocks))]
            blocks[block] = data
        return data

    def add(self, exitcode: Identity, record: Identity, name: int, signature: str | None) -> None:
        """Remember a job found finished by reading its files, which had these identities before they were
        read; unless a file changed too recently to be trusted, or the signature is not a digest."""
        self._last = None
        newest = max(exitcode[3], exitcode[4], record[3], record[4])
        packed = _packed(signature)
        if newest >= self._limit or packed is None:
            return
        length, raw = packed
        number = self._added.append(exitcode[1], _pack(exitcode, record, name, length, raw, 0))
        self._last = (-number - 1, exitcode, record, name, length, raw, True)

    def confirm(self, tag: int) -> None:
        """The entry last found or added holds its job's planned signature under the task's fingerprint `tag`."""
        if self._last is None:
            return
        i, exitcode, record, name, length, raw, here = self._last
        entry = _pack(exitcode, record, name, length, raw, tag)
        if i < 0:
            self._added.replace(-i - 1, entry)
        elif here or self._entry(i, exitcode, record, name) is not None:
            self._changes[i] = entry
        else:  # (a helper's entry, another at this index of this version: the job gets an entry of its own)
            self._added.append(exitcode[1], entry)

    def save(self) -> None:
        """Write the cache back when this pass learnt something: atomically (a concurrent writer's file or this
        one wins, whole), the old file's part copied a chunk at a time. Entries no lookup used are dropped once
        they outnumber the most jobs a pass looked up in this folder (of changed files, or jobs no one asks)."""
        if not self._added and not self._changes:
            self._file.close()
            return
        most = max(self._most, self._lookups)
        hits = self._hits or bytearray(self._count)
        kept = _runs(hits) if self._count - hits.count(1) > most else [(0, self._count)]
        added = self._added.ordered()
        total = sum(end - start for start, end in kept) + len(added)
        header = _HEADER.pack(_MAGIC, _TAG, total, most)
        parts = chain((header,), self._key_parts(kept, added), self._entry_parts(kept, added))
        write(self.path, self._file, parts)
        self._file.close()

    def _merged(self, kept: list[tuple[int, int]], added: list[int]) -> Iterator[range | int]:
        """The output's entries in order: a `range` of the file's, or the number of an added one, each added
        entry after the file's entries of the same or a smaller key."""
        keys, key, a = self._keys, self._added.key, 0
        for start, end in kept:
            while a < len(added) and (cut := bisect_right(keys, key(added[a]), start, end)) < end:
                yield range(start, cut)
                yield added[a]
                start, a = cut, a + 1
            yield range(start, end)
        yield from added[a:]

    def _key_parts(self, kept: list[tuple[int, int]], added: list[int]) -> Iterator[_Part]:
        """The keys of `_merged`'s order: ranges of the file, and the added ones' bytes."""
        base = _HEADER.size
        for run in self._merged(kept, added):
            if isinstance(run, range):
                yield base + run.start * _KEY.size, base + run.stop * _KEY.size
            else:
                yield _KEY.pack(self._added.key(run))

    def _entry_parts(self, kept: list[tuple[int, int]], added: list[int]) -> Iterator[_Part]:
        """The entries of `_merged`'s order: ranges of the file (split where an entry changed), the changed
        entries and the added ones."""
        changed = sorted(self._changes)
        base, size = self._entries, _ENTRY.size
        for run in self._merged(kept, added):
            if not isinstance(run, range):
                yield self._added.entry(run)
                continue
            start = run.start
            for i in changed[bisect_left(changed, start):bisect_left(changed, run.stop)]:
                yield base + start * size, base + i * size
                yield self._changes[i]
                start = i + 1
            yield base + start * size, base + run.stop * size


def _pack(exitcode: Identity, record: Identity, name: int, length: int, raw: bytes, tag: int) -> bytes:
    check = _check(exitcode, record, name, length, raw, tag)
    return _ENTRY.pack(exitcode[4], record[1], record[4], check, length, raw, tag)


def _load(path: str) -> tuple[Source, array, int]:
    """The file, its keys and its most lookups; no keys when it is not a whole cache file of this format."""
    file = Source(path)
    header, keys = file.read(0, _HEADER.size), array("q")
    if header is not None:
        magic, tag, count, most = _HEADER.unpack(header)
        if (magic == _MAGIC.ljust(32, b"\0") and tag == _TAG.ljust(32, b"\0") and count >= 0 and most >= 0
                and file.size == _HEADER.size + count * (_KEY.size + _ENTRY.size)
                and (found := file.read(_HEADER.size, count * _KEY.size)) is not None):
            keys.frombytes(found)
            return file, keys, most
    file.close()
    return file, keys, 0


def _runs(hits: bytearray) -> list[tuple[int, int]]:
    """The runs `(start, end)` of entries some lookup used."""
    runs, start = [], hits.find(1)
    while start >= 0:
        end = hits.find(0, start)
        end = len(hits) if end < 0 else end
        runs.append((start, end))
        start = hits.find(1, end)
    return runs


class StatusCache:
    """The status caches of the task folders below one output root, loaded as a pass first needs them."""

    __slots__ = ("_folders", "_limit", "_prefix", "_where")

    def __init__(self, root: str, started_ns: int) -> None:
        self._prefix = root.rstrip("/") + "/" if root else ""
        self._where = os.path.join(root, STATUS_CACHE) if root else ""
        self._limit = started_ns - MARGIN_NS
        self._folders: dict[str, FolderCache | None] = {}

    def folder(self, parent: str) -> FolderCache | None:
        """The cache of the task folder `parent`; None when it is not below the root."""
        found = self._folders.get(parent, False)
        if found is False:
            found = None
            if self._prefix and parent.startswith(self._prefix) and len(parent) > len(self._prefix):
                name = parent[len(self._prefix):].replace("/", ".")
                found = FolderCache(os.path.join(self._where, name), self._limit)
            self._folders[parent] = found
        return found  # type: ignore[return-value]  # `False` only marks a folder not asked for yet

    def save(self) -> None:
        for folder in self._folders.values():
            if folder is not None:
                folder.save()
