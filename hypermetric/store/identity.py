"""How the status cache knows a file again without reading it: its identity, the fields of its `stat` that
change whenever it is replaced or written (as git's index keeps stat data), and the hash of a job directory's
name that an entry is bound to."""

from __future__ import annotations

import os
import zlib

Identity = tuple[int, int, int, int, int]  # a file's device, inode, size, mtime and ctime (ns)
ABSENT: Identity = (0, 0, 0, 0, 0)  # the identity of a `job.json` that does not exist


def identity(found: os.stat_result) -> Identity:
    """The identity of a file as the cache keeps it."""
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def name_hash(name: str) -> int:
    """The hash of a job directory's name that its entries are bound to."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape"))
