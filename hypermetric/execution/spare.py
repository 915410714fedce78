"""Spare files for a job's record, made while its script runs.

A job ends by writing `job.json` and then `exitcode`, each through a temporary file renamed into place. On
some file systems making a file (allocating its inode) costs far more than writing to one or renaming it
(about half a millisecond against microseconds on the disks we measured), and on a chain of jobs every step
after the script's end delays the next job. So the two temporary files are created while the script runs,
when the runner's thread only waits and the script uses another core; after the script, each is written,
closed and renamed, which is cheap. The spares live beside the job directory, not in it, so the script sees
its directory exactly as before; their names are hidden and start with the job directory's name (a case
name never starts with a dot), so they are never mistaken for a job, and a spare left behind by a killed
runner makes nothing look done. A name is the same for every attempt of a job: only the holder of the job's
lock uses it, and the next attempt reuses what a killed runner left instead of piling up new ones. Whenever
a spare cannot be used (it was never made, it was deleted, the disk is full), the caller writes the record
the ordinary way.
"""

from __future__ import annotations

import os

from hypermetric.store.fdio import write_all


class SpareFiles:
    """Empty hidden files beside `workdir`, one per name, each to become `workdir/name` once written."""

    def __init__(self, workdir: str, names: tuple[str, ...]) -> None:
        self._workdir = workdir
        self._names = names
        self._fds: dict[str, int] = {}
        parent, case = os.path.split(workdir)
        self._prefix = os.path.join(parent, f".{case}.")

    def _temp(self, name: str) -> str:
        return f"{self._prefix}{name}.tmp"

    def create(self) -> None:
        """Make the spare files; one that cannot be made is simply not there."""
        for name in self._names:
            try:
                self._fds[name] = os.open(self._temp(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            except OSError:
                return

    def commit(self, name: str, data: bytes) -> bool:
        """Write `data` into the spare for `name` and rename it to `name`; False (and nothing renamed) when
        there is no usable spare, so the caller writes the file itself."""
        fd = self._fds.pop(name, None)
        if fd is None:
            return False
        temp = self._temp(name)
        try:
            write_all(fd, data)
            os.close(fd)
            fd = -1
            os.replace(temp, os.path.join(self._workdir, name))
            return True
        except OSError:
            if fd >= 0:
                os.close(fd)
            _unlink(temp)
            return False

    def discard(self) -> None:
        """Close and delete the spares not committed (an interrupted or failed start)."""
        for name, fd in self._fds.items():
            os.close(fd)
            _unlink(self._temp(name))
        self._fds.clear()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
