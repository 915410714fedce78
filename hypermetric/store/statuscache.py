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
import zlib
from array import array
from bisect import bisect_left, bisect_right

from hypermetric.store.layout import STATUS_CACHE

MARGIN_NS = 2_000_000_000  # files changed this close to the pass's start are read, never cached
_MAGIC = b"hypermetric status cache 2\n"
_TAG = f"{sys.implementation.cache_tag} {sys.byteorder} {struct.calcsize('q')}".encode()
_HEADER = struct.Struct("=32s32sqq")  # magic, tag, entries, the most jobs one pass looked up in the folder
_KEY = struct.Struct("=q")  # the `exitcode`'s inode: the entries are sorted by it
_ENTRY = struct.Struct("=qqqqB16sq")  # exitcode ctime, job.json inode and ctime, check hash, signature, print
_MAX_SIGNATURE = 16  # bytes: a signature of up to 32 hex digits is cached
_ABSENT = (0, 0, 0, 0, 0)  # the identity of a `job.json` that does not exist


def _check(e: os.stat_result, record: os.stat_result | None, name: int, length: int, signature: bytes,
           tag: int) -> int:
    """A hash of a whole entry and the job directory's name (`name_hash`); a tuple of ints hashes the same in
    every process of one Python."""
    if record is None:
        return hash((e.st_dev, e.st_ino, e.st_size, e.st_mtime_ns, e.st_ctime_ns, *_ABSENT, name, length,
                     int.from_bytes(signature, "little"), tag))
    return hash((e.st_dev, e.st_ino, e.st_size, e.st_mtime_ns, e.st_ctime_ns, record.st_dev, record.st_ino,
                 record.st_size, record.st_mtime_ns, record.st_ctime_ns, name, length,
                 int.from_bytes(signature, "little"), tag))


def name_hash(name: str) -> int:
    """The hash of a job directory's name that its entries are bound to."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape"))


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
    """The cache of one task folder for one status pass: looked up, added to, and written back once."""

    __slots__ = ("_added", "_changed", "_count", "_data", "_entries", "_hits", "_keys", "_last", "_limit",
                 "_lookups", "_most", "_next", "path")

    def __init__(self, path: str, limit_ns: int) -> None:
        self.path = path
        self._limit = limit_ns  # files changed at or after this time are not cached
        self._data, self._count, self._most = _load(path)
        self._keys = memoryview(self._data)[_HEADER.size:_HEADER.size + _KEY.size * self._count].cast("q")
        self._entries = _HEADER.size + _KEY.size * self._count
        self._hits: bytearray | None = None
        self._lookups = 0
        self._next = 0  # the entry after the last one found: the likeliest next
        self._added: list[tuple[int, bytes]] = []
        self._changed = False  # some entry read from the file was given a fingerprint
        self._last: tuple | None = None  # the entry last found or added, and what it was made of

    def lookup(self, exitcode: os.stat_result, record: os.stat_result | None, name: int) -> tuple[str, int] | None:
        """(signature, fingerprint) of a finished job in the directory whose name hashes to `name`, whose
        `exitcode` and `job.json` have these identities: the signature it recorded (`""` when none), and the
        fingerprint of its task when that was its planned signature (else 0); None when the cache does not
        know them."""
        self._lookups += 1
        self._last = None
        ino, keys, count = exitcode.st_ino, self._keys, self._count
        i = self._next  # inodes are handed out in about the order jobs finish, which is the order they are seen
        if i < count and keys[i] == ino:
            found = self._entry(i, exitcode, record, name)
            if found is not None:
                return found
        i = bisect_left(keys, ino)
        while i < count and keys[i] == ino:
            found = self._entry(i, exitcode, record, name)
            if found is not None:
                return found
            i += 1
        return None

    def _entry(self, i: int, exitcode: os.stat_result, record: os.stat_result | None,
               name: int) -> tuple[str, int] | None:
        """Entry `i`'s signature and fingerprint if it is of files with these identities, else None."""
        ctime, j_ino, j_ctime, check, length, signature, tag = _ENTRY.unpack_from(self._data,
                                                                                 self._entries + i * _ENTRY.size)
        if ctime != exitcode.st_ctime_ns or j_ino != (record.st_ino if record is not None else 0):
            return None
        if j_ctime != (record.st_ctime_ns if record is not None else 0):
            return None
        if check != _check(exitcode, record, name, length, signature, tag):
            return None
        if self._hits is None:
            self._hits = bytearray(self._count)
        self._hits[i] = 1
        self._next = i + 1
        self._last = (i, exitcode, record, name, length, signature)
        return signature[:length].hex(), tag

    def add(self, exitcode: os.stat_result, record: os.stat_result | None, name: int,
            signature: str | None) -> None:
        """Remember a job found finished by reading its files, which had these identities before they were
        read; unless a file changed too recently to be trusted, or the signature is not a digest."""
        self._last = None
        newest = max(exitcode.st_mtime_ns, exitcode.st_ctime_ns)
        if record is not None:
            newest = max(newest, record.st_mtime_ns, record.st_ctime_ns)
        packed = _packed(signature)
        if newest >= self._limit or packed is None:
            return
        length, raw = packed
        self._added.append((exitcode.st_ino, _pack(exitcode, record, name, length, raw, 0)))
        self._last = (-len(self._added), exitcode, record, name, length, raw)

    def confirm(self, tag: int) -> None:
        """The entry last found or added holds its job's planned signature under the task's fingerprint `tag`."""
        if self._last is None:
            return
        i, exitcode, record, name, length, raw = self._last
        entry = _pack(exitcode, record, name, length, raw, tag)
        if i < 0:
            self._added[-i - 1] = (exitcode.st_ino, entry)
        else:
            self._data[self._entries + i * _ENTRY.size:self._entries + (i + 1) * _ENTRY.size] = entry
            self._changed = True

    def save(self) -> None:
        """Write the cache back when this pass learnt something: atomically (a concurrent writer's file or
        this one wins, whole). Entries no lookup used are dropped once they outnumber the most jobs a pass has
        looked up in this folder: they are of files that changed or of jobs no command asks about."""
        if not self._added and not self._changed:
            return
        most = max(self._most, self._lookups)
        keys, entries = self._old()
        if self._count - sum(self._hits or ()) > most:
            used = [i for i, hit in enumerate(self._hits or ()) if hit]
            keys = b"".join(keys[i * _KEY.size:(i + 1) * _KEY.size] for i in used)
            entries = b"".join(entries[i * _ENTRY.size:(i + 1) * _ENTRY.size] for i in used)
        sorted_keys = memoryview(keys).cast("q")
        out_keys, out_entries, start = array("q"), bytearray(), 0
        for ino, entry in sorted(self._added):
            end = bisect_right(sorted_keys, ino)
            out_keys.frombytes(keys[start * _KEY.size:end * _KEY.size])
            out_keys.append(ino)
            out_entries += entries[start * _ENTRY.size:end * _ENTRY.size]
            out_entries += entry
            start = end
        out_keys.frombytes(keys[start * _KEY.size:])
        out_entries += entries[start * _ENTRY.size:]
        header = _HEADER.pack(_MAGIC, _TAG, len(out_keys), most)
        _write(self.path, [header, out_keys.tobytes(), out_entries])

    def _old(self) -> tuple[bytes | bytearray, bytes | bytearray]:
        data, entries = self._data, self._entries
        return data[_HEADER.size:entries], data[entries:entries + _ENTRY.size * self._count]


def _pack(exitcode: os.stat_result, record: os.stat_result | None, name: int, length: int, raw: bytes,
          tag: int) -> bytes:
    j_ino, j_ctime = (record.st_ino, record.st_ctime_ns) if record is not None else (0, 0)
    check = _check(exitcode, record, name, length, raw, tag)
    return _ENTRY.pack(exitcode.st_ctime_ns, j_ino, j_ctime, check, length, raw, tag)


def _load(path: str) -> tuple[bytearray, int, int]:
    """The file's bytes, its number of entries and its most lookups; nothing when it is not a whole cache
    file of this format and this Python."""
    try:
        data = _read(path)
    except OSError:
        return bytearray(), 0, 0
    try:
        magic, tag, count, most = _HEADER.unpack_from(data)
    except struct.error:
        return bytearray(), 0, 0
    if (magic != _MAGIC.ljust(32, b"\0") or tag != _TAG.ljust(32, b"\0") or count < 0 or most < 0
            or len(data) != _HEADER.size + count * (_KEY.size + _ENTRY.size)):
        return bytearray(), 0, 0
    return data, count, most


def _read(path: str) -> bytearray:
    """The file's bytes, in a buffer that entries can be changed in (read in place: no copy of them)."""
    with open(path, "rb", buffering=0) as f:
        data = bytearray(os.fstat(f.fileno()).st_size + 1)  # one more: a file that grew is not read whole
        size = 0
        with memoryview(data) as view:
            while count := f.readinto(view[size:]):
                size += count
    del data[size:]
    return data


def _write(path: str, parts: list[bytes | bytearray]) -> None:
    """Write `path` through a fresh temporary name and a rename; a failure (a read-only or full root, a
    root that does not exist) leaves things as they were."""
    folder = os.path.dirname(path)
    tmp = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        if not os.path.isdir(folder):
            os.mkdir(folder)  # only the hidden folder: never the output root itself
        with open(tmp, "wb") as f:
            for part in parts:
                f.write(part)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


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
