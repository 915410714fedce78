"""The watchdog: a small process that ends the jobs of a runner that died, however it died.

A job's script runs in a process group of its own, so nothing ends it when the process that ran it (a
`hypermetric run`, or a Ray worker) dies: not a signal to the runner's group, not the runner's exit, and no
handler sees a SIGKILL. Each runner therefore keeps one watchdog process, started with its first job, and
tells it through a pipe the process group of every process a job spawns and of every job that ends. When the
runner dies the kernel closes the pipe, and the watchdog sends SIGTERM to the groups still registered, SIGKILL
after `grace` seconds, and then removes their `.lock` files unless someone holds them again.

The watchdog is started through a shell that exits at once, in a session of its own, so it is nobody's
child and in nobody's process group: a signal to the runner's group, or Ray killing the children of a worker
it stops, does not reach it. A thread pool cannot use the kernel's parent-death signal instead: it fires when
the thread that forked the job exits, not when the process does.

A process can only be registered after it was spawned (its group's id is its pid), so every guarded process
starts behind a gate (`store.gate`): it waits for a line from its runner, sent once the group is registered,
and exits without running anything if the runner dies first. A job that makes a group of its own is out of
the watchdog's reach; it still holds the open lock file it inherited (`process.run_script`), so a re-run waits
for it to end instead of running beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

# After each read the watchdog pauses this long, so that the two lines of every job (its start and its end)
# pile up in the pipe and are read in batches: a few wake-ups a second instead of two per job, each of which
# would take a core from the jobs. Nothing is lost by the wait: the watchdog reads the pipe to its end before
# it acts, so the registrations written before the runner died are all seen, a moment later.
READ_PAUSE = 0.05

SCRIPT = r"""
import fcntl, os, signal, sys, time
grace, pause, groups, rest = float(sys.argv[1]), float(sys.argv[2]), {}, b""
while True:
    data = os.read(0, 65536)
    if not data:
        break
    *lines, rest = (rest + data).split(b"\n")
    for line in lines:
        op, _, more = line.partition(b" ")
        pgid, _, lock = more.partition(b" ")
        if op == b"+":
            groups[int(pgid)] = lock
        else:
            groups.pop(int(pgid), None)
    time.sleep(pause)
locks = [lock for lock in groups.values() if lock]
def signal_all(sig):
    alive = {}
    for pgid, lock in groups.items():
        try:
            os.killpg(pgid, sig)
            alive[pgid] = lock
        except OSError:
            pass
    return alive
groups = signal_all(signal.SIGTERM)
deadline = time.monotonic() + grace
while groups and time.monotonic() < deadline:
    time.sleep(0.05)
    groups = signal_all(0)
signal_all(signal.SIGKILL)
deadline = time.monotonic() + 10  # killed processes let go of the lock as they exit, a moment later
for path in locks:
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        continue
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)
"""


class Watchdog:
    """A process that stops the registered process groups when this process dies (module docstring)."""

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._lock = threading.Lock()
        self._pipe: int | None = None

    def start(self) -> None:
        """Start the watchdog process now, if it is not running (else the first `guard` starts it)."""
        with self._lock:
            if self._pipe is None:
                try:
                    self._pipe = self._spawn()
                except OSError:
                    pass

    def guard(self, pgid: int, lock: str = "") -> None:
        """Stop group `pgid`, then remove the unheld lock file `lock`, if this process dies first."""
        self._send(f"+ {pgid} {lock}\n".encode())

    def release(self, pgid: int) -> None:
        """Forget group `pgid` (its job has ended)."""
        self._send(f"- {pgid}\n".encode())

    def close(self) -> None:
        """Let the watchdog go: it stops whatever is still registered, then exits."""
        with self._lock:
            if self._pipe is not None:
                os.close(self._pipe)
                self._pipe = None

    def _send(self, data: bytes) -> None:
        with self._lock:
            for _ in range(2):  # a watchdog that died is replaced once; without one the job runs unguarded
                try:
                    if self._pipe is None:
                        self._pipe = self._spawn()
                    os.write(self._pipe, data)
                    return
                except OSError:
                    if self._pipe is not None:
                        os.close(self._pipe)
                    self._pipe = None

    def _spawn(self) -> int:
        """Start the watchdog; the write end of its input pipe."""
        read, write = os.pipe()
        try:
            shell = subprocess.Popen(["/bin/sh", "-c", 'exec 3<&0; "$0" -I -S -c "$1" "$2" "$3" <&3 3<&- &',
                                      sys.executable, SCRIPT, str(self._grace), str(READ_PAUSE)], stdin=read,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        except OSError:
            os.close(write)
            raise
        finally:
            os.close(read)
        shell.wait()
        return write


class Guard:
    """The `on_spawn` hook of one job attempt: every process it spawns is registered with the watchdog
    (with the job's lock file) until `release`."""

    def __init__(self, watchdog: Watchdog, lock: str) -> None:
        watchdog.start()  # before the job spawns anything: what is left is one write to a pipe
        self._watchdog = watchdog
        self._lock = lock
        self.pids: list[int] = []

    def on_spawn(self, proc: object) -> None:
        pid = proc.pid  # type: ignore[attr-defined]  # a Popen, typed loosely for every backend's hook
        self.pids.append(pid)
        self._watchdog.guard(pid, self._lock)

    def release(self) -> None:
        for pid in self.pids:
            self._watchdog.release(pid)
        self.pids.clear()
