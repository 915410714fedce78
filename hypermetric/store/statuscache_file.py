"""A status cache file as a pass reads it: its keys whole, its entries a block at a time, and written back
through a temporary name.

The cache of a task folder of a million finished jobs is about 65 MB, of which its keys (the inodes looked up)
are 8 MB. Read whole into a buffer, it would stay in memory through the whole pass, which then grows with the
number of done jobs; read a block of entries at a time from the open file, a pass holds one block. The file is
never changed in place (a writer replaces it by a rename), so the open file keeps the bytes it had; where it
cannot be read any more (a network file system whose server dropped the replaced file), the entries not read
yet are unknown, and their jobs are read as if there were no cache. A small file is simply read whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from io import FileIO

_CHUNK = 1 << 20  # bytes of the old file copied at once when it is written back
_WHOLE = 1 << 18  # bytes: a file this small is read whole


class Source:
    """The bytes of a cache file for one pass: a small file read whole at once (and closed, so that a pass over
    many task folders holds no file open for each), a large one kept open and read where asked."""

    __slots__ = ("_file", "_whole", "size")

    def __init__(self, path: str) -> None:
        self._file: FileIO | None = None
        self._whole: bytes | None = None
        self.size = 0
        try:
            file = FileIO(path, "rb")
        except OSError:
            return
        try:
            self.size = os.fstat(file.fileno()).st_size
            if self.size > _WHOLE:
                self._file = file
                return
            self._whole = file.readall()
            self.size = len(self._whole)
        except OSError:
            self.size = 0
        file.close()

    def read(self, offset: int, size: int) -> bytes | None:
        """`size` bytes from `offset`, or None when they cannot all be read."""
        if self._whole is not None:
            data = self._whole[offset:offset + size]
        elif self._file is not None:
            try:
                data = os.pread(self._file.fileno(), size, offset)
            except (OSError, ValueError):
                return None
        else:
            return None
        return data if len(data) == size else None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._whole, self.size = None, None, 0


def write(path: str, source: Source, parts: Iterable[bytes | tuple[int, int]]) -> None:
    """Write `path` through a fresh temporary name and a rename; a part is bytes or a `(start, end)` range of
    `source` (copied in chunks). A failure (a read-only or full root, a root that does not exist, an old file
    that cannot be read any more) leaves things as they were."""
    folder = os.path.dirname(path)
    tmp = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        if not os.path.isdir(folder):
            os.mkdir(folder)  # only the hidden folder: never the output root itself
        with open(tmp, "wb") as f:
            for part in parts:
                if not isinstance(part, tuple):
                    f.write(part)
                    continue
                for start in range(part[0], part[1], _CHUNK):
                    data = source.read(start, min(_CHUNK, part[1] - start))
                    if data is None:
                        raise OSError(f"{path}: the cache file being replaced cannot be read")
                    f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
