"""Starting a job's shell as a child process in a session of its own, as cheaply as the kernel allows.

The child's program is named by its absolute path. `subprocess` looks a bare command name (`bash`) up in the
child, after the fork: it tries `execve` in every `PATH` directory in turn until one succeeds, and bash then
searches `PATH` again for itself to set `$BASH`. On a `PATH` of nine directories that is about twenty failed
system calls per job, all repeated for every job, while the answer never changes within a run. So the
absolute path is found once per command name and `PATH` value, as the child would find it (`shutil.which`: the
first executable file, in `PATH` order). A `PATH` with a relative directory (or an empty entry, which means
the current directory) depends on the directory the job runs in, so it is not resolved: the child searches
it as before. A path that stops working (the program was removed) is forgotten and the start is tried again
by name, so the next job searches again.

A descriptor kept open in the child is passed under another number when it is 3, the first after the
standard three: asked to keep that one, Python's child (3.11) fails its `close_range` call and closes every
other descriptor one by one from a listing of /proc/self/fd, twenty-odd system calls while the parent waits
in `vfork`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Mapping

from hypermetric.store.fdio import write_all
from hypermetric.store.gate import Gate

_FIRST_FREE = 3


def spawn(cwd: str, argv: list[str], env: dict[str, str], files: tuple[int, int], keep_fds: tuple[int, ...] = (),
          gate: Gate | None = None) -> subprocess.Popen | int:
    """Start `argv` in `cwd`, in a new session (its own process group), with its output in the descriptors
    `files`; exit code 127 (and the reason in `files[1]`) if its program cannot start. With a `gate` the
    command waits behind it (see `store.gate`). The open files of `keep_fds` stay open in the child.
    """
    try:
        return _popen(cwd, argv, env, files, keep_fds, gate)
    except OSError as e:
        if gate is not None:
            gate.close()
        name = argv[0] if len(argv) > 1 else "the shell"
        write_all(files[1], f"cannot start {name}: {e}\n".encode())
        return 127


def _popen(cwd: str, argv: list[str], env: dict[str, str], outputs: tuple[int, int], keep_fds: tuple[int, ...],
           gate: Gate | None) -> subprocess.Popen:
    """Start `argv` (behind `gate`) by the path `program_path` finds for its program; a path that no longer
    works (the program was removed meanwhile) is forgotten, and the child then searches `PATH` itself."""
    program = program_path(argv[0], env)
    try:
        return _popen_as(cwd, [program, *argv[1:]], env, outputs, keep_fds, gate)
    except OSError:
        if program == argv[0]:
            raise
        forget_program(program)
        return _popen_as(cwd, argv, env, outputs, keep_fds, gate)


def _popen_as(cwd: str, argv: list[str], env: dict[str, str], outputs: tuple[int, int],
              keep_fds: tuple[int, ...], gate: Gate | None) -> subprocess.Popen:
    stdin: int = subprocess.DEVNULL
    if gate is not None:
        argv, env = gate.command(argv, env)
        stdin = gate.stdin
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE + 1) for fd in keep_fds if fd == _FIRST_FREE]
    try:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=outputs[0], stderr=outputs[1],
                                start_new_session=True,
                                pass_fds=[fd for fd in keep_fds if fd != _FIRST_FREE] + moved)
    finally:
        for fd in moved:
            os.close(fd)


_FOUND: dict[tuple[str, str | None], str] = {}


def program_path(name: str, env: Mapping[str, str]) -> str:
    """The absolute path of the program `name` on the `PATH` of environment `env`, or `name` itself when
    it contains a directory, is not found, or `PATH` holds a relative directory."""
    if not name or os.sep in name:
        return name
    key = (name, env.get("PATH"))
    found = _FOUND.get(key)
    if found is None:
        found = _search(name, os.get_exec_path(dict(env)))
        _FOUND[key] = found
    return found


def forget_program(path: str) -> None:
    """Drop every remembered lookup that led to `path` (it could not be started)."""
    for key in [key for key, value in _FOUND.items() if value == path]:
        _FOUND.pop(key, None)


def _search(name: str, directories: list[str]) -> str:
    if not all(os.path.isabs(d) for d in directories):
        return name
    return shutil.which(name, path=os.pathsep.join(directories)) or name
