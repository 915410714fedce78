"""Writing through bare file descriptors: the runner writes small files and pipes through descriptors rather
than Python file objects, which cost several system calls each."""

from __future__ import annotations

import os


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to descriptor `fd` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


REPLACE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC    # a file made or emptied, then written
EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC   # a file that must not be there yet


def write_file(path: str, data: bytes, flags: int = REPLACE) -> None:
    """Open `path` with `flags` and write all of `data` into it (nothing at all when it is empty)."""
    fd = os.open(path, flags, 0o666)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)
