"""What a helper of a large status pass (store/scan_ahead.py) finds of one job, as the fixed-size record it
sends the pass: whether the job's `exitcode` and `job.json` exist, their identities, the hash of the job
directory's name, whether every output exists, and the status cache's entry for those identities, which the
helper looks up in its own copy of the cache (the pass then neither builds the identities into `stat`
results nor looks them up itself: it only decides).

The checks are those `StatusScan.check` makes itself (store/scan.py), from the task folder's descriptor;
a name the system refuses counts as missing.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from hypermetric.store.identity import ABSENT, identity, name_hash
from hypermetric.store.layout import EXITCODE, JOB_JSON
from hypermetric.store.status import outputs_present
from hypermetric.store.statuscache import FolderCache

RECORD = struct.Struct("=BqB16sq5q5qI")  # flags; the cache entry (index, length, signature, fingerprint);
#                                           `exitcode`'s and `job.json`'s identities; the name's hash
FOUND_EXITCODE, FOUND_OUTPUTS, UNCHECKED = 1, 2, 4  # flags
# The fields of an unpacked record:
HIT_INDEX, HIT, EXITCODE_IDENTITY, RECORD_IDENTITY, NAME = 1, slice(1, 5), slice(5, 10), slice(10, 15), 15

_NOTHING = RECORD.pack(0, -1, 0, b"", 0, *ABSENT, *ABSENT, 0)
NOT_CHECKED = RECORD.pack(UNCHECKED, -1, 0, b"", 0, *ABSENT, *ABSENT, 0)
_MISSING = -2  # a task folder that does not exist

Folders = dict[str, "tuple[int | None, FolderCache | None]"]  # a helper's task folders: descriptor, cache
CacheOf = Callable[[str], "FolderCache | None"]  # a task folder's status cache


def look(workdir: str, outputs: tuple[str, ...] | None, folders: Folders,
         cache_of: CacheOf) -> bytes:
    """The record of the job in `workdir` whose outputs are `outputs` (None: on a custom file system, which the
    pass checks from its `Job`); `folders` keeps the task folders opened so far, `cache_of` gives a folder's
    status cache."""
    if outputs is None:
        return NOT_CHECKED
    parent, _, name = workdir.rpartition("/")
    folder = folders.get(parent)
    if folder is None:
        try:
            fd: int | None = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            fd = _MISSING  # (a task none of whose jobs ran: no `stat` each)
        except OSError:
            fd = None
        folder = folders[parent] = fd, cache_of(parent) if fd != _MISSING else None
    fd, cache = folder
    if fd == _MISSING:
        return _NOTHING
    path = workdir if fd is None else name
    try:
        e = identity(os.stat(f"{path}/{EXITCODE}", dir_fd=fd))
    except (OSError, ValueError):
        return _NOTHING
    try:
        r = identity(os.stat(f"{path}/{JOB_JSON}", dir_fd=fd))
    except (OSError, ValueError):
        r = ABSENT
    flags = FOUND_EXITCODE | FOUND_OUTPUTS if outputs_present(path, fd, outputs) else FOUND_EXITCODE
    key = name_hash(name)
    hit = cache.find(e, r, key) if cache is not None else None
    if hit is None:
        return RECORD.pack(flags, -1, 0, b"", 0, *e, *r, key)
    return RECORD.pack(flags, *hit, *e, *r, key)
