"""Writing to a bare file descriptor: the runner writes small files and pipes through descriptors rather
than Python file objects, which cost several system calls each."""

from __future__ import annotations

import os


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to descriptor `fd` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
