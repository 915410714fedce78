"""Jobs that share Ray tasks: on a Ray this process started, each Ray task runs job after job, sent by the driver.

A Ray task per job costs the driver a submission and a completion, and the worker Ray's own start and end of
the task: together more than the whole job protocol. On a Ray whose workers all run on this machine (one this
process started), the backend therefore runs its jobs of the default kind in *runners*: Ray tasks that connect
to the driver over a Unix socket and run the jobs it sends them one at a time, each job's end told back at
once. A runner that ends a job gets the next one the scheduler has started: it keeps its worker and its share
of the cluster, and Ray is not asked again.

The `Dispatcher` is the driver's side. Started jobs wait in its queue for a free runner; it asks for a new
runner (the backend's `submit`) only for a queued job no runner is on its way for, and never for more than
`limit` at once. A runner with nothing to run waits until the driver has taken its last end and made the
starts that end called for (`between_batches`), then is told to stop, giving its CPU back. When a runner's
connection ends while it runs a job (its worker died), the job is queued again, up to `retries` times, as Ray
retries a task whose worker died: the dead worker's watchdog stops the job's processes, and the next attempt
waits for the job's lock. A runner that ends before it asks for a job fails the oldest queued job with the
reason, so that a runner that can never start fails jobs instead of being asked for again and again. The
runner's side, and the frames both sides send, are in `ray_runner`.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypermetric.execution.ray_runner import ENDED, HELLO, JOB, LENGTH, STOP, listen, send

# A runner's states: asked of Ray, not connected yet; waiting for a job; running one; told to stop or gone.
STARTING, IDLE, BUSY, GONE = "starting", "idle", "busy", "gone"


class RunnerLost(Exception):
    """The job's runner ended without telling its end: its worker died, or it could never start."""


@dataclass(eq=False)
class _Runner:
    number: int
    state: str = STARTING
    conn: socket.socket | None = None
    key: Any = None               # the job it runs (BUSY), and that job's payload
    payload: bytes = b""
    idle_at: int = 0              # IDLE: how many ends had been told when it told its last one


class Dispatcher:
    """The driver's side. `submit(number)` asks Ray for runner `number` and returns its ref (called without
    the lock held); `on_end(key, data, error)` hears each job's end: its outcome's bytes, or a `RunnerLost`."""

    def __init__(self, submit: Callable[[int], Any], on_end: Callable[[Any, bytes | None, Exception | None], None],
                 limit: int, retries: int) -> None:
        self._submit, self._on_end = submit, on_end
        self._limit, self._retries = max(1, limit), max(0, retries)
        self.path, self._listener = listen()
        self._dir = os.path.dirname(self.path)
        self._lock = threading.Lock()
        self._queue: deque[tuple[Any, bytes]] = deque()
        self._runners: dict[int, _Runner] = {}          # every runner not gone, by number
        self._idle: dict[int, _Runner] = {}             # those waiting for a job
        self._starting = 0                              # how many are on their way
        self._by_conn: dict[socket.socket, _Runner] = {}
        self._lost: dict[Any, int] = {}                 # how often each queued job's runner died under it
        self._refs: dict[int, Any] = {}
        self._numbers = 0
        self._told = 0                                  # how many ends went to `on_end`
        self._closed = False   # no runner is asked for any more (Ctrl-C, or closed)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        for source in (self._listener, self._wake_r):
            self._selector.register(source, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="hypermetric-ray-runners", daemon=True)
        self._thread.start()

    def put(self, key: Any, payload: bytes) -> None:
        """Run the job `payload` on the next free runner; its end comes to `on_end` under `key`."""
        with self._lock:
            if self._closed:  # after Ctrl-C: it ends at once, as the queued ones did
                self._tell(key, None, RunnerLost("interrupted"))
                return
            self._queue.append((key, payload))
            self._dispatch()
            wanted = self._wanted()
        self._start_runners(wanted)

    def between_batches(self, taken: int) -> None:
        """The driver has taken the first `taken` ends and made the starts they called for: each runner with
        nothing to run whose last end was among those stops (another may get the job its end lets start), and
        Ray is asked for the runners queued jobs lack (for one that failed to start, say)."""
        with self._lock:
            for runner in [r for r in self._idle.values() if r.idle_at <= taken]:
                self._stop(runner)
            wanted = self._wanted()
        self._start_runners(wanted)

    def refs(self) -> list[Any]:
        """The Ray refs of the runners not known to have ended."""
        with self._lock:
            return list(self._refs.values())

    def cancel(self) -> None:
        """Ctrl-C: every queued job ends lost, and no runner is asked for any more; the caller cancels the
        runners' tasks (`refs`), which ends the jobs they run."""
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), deque()
            for key, _ in queued:
                self._tell(key, None, RunnerLost("interrupted"))

    def runner_ended(self, number: int, error: Exception | None) -> None:
        """Ray says the task of runner `number` has ended, with `error` if it failed. Called from Ray's
        callback thread, where asking Ray for a new runner is not safe: `between_batches` does that."""
        with self._lock:
            self._refs.pop(number, None)
            self._never_started(number, error)

    def close(self) -> None:
        """Stop serving: runners still connected are told to stop (or see the connection end); the end of a
        job still running is not heard. A second call does nothing."""
        with self._lock:
            if not self._thread.is_alive():   # it serves until the first call
                return
            self._closed = True
            for runner in list(self._idle.values()):
                self._stop(runner)
        os.write(self._wake_w, b"x")
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            if isinstance(key.fileobj, socket.socket):
                key.fileobj.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- with the lock held --------------------------------------------------------------------------

    def _move(self, runner: _Runner, state: str) -> None:
        """Put `runner` in `state`, keeping the idle runners and the count of starting ones."""
        if runner.state == IDLE:
            del self._idle[runner.number]
        elif runner.state == STARTING:
            self._starting -= 1
        runner.state = state
        if state == IDLE:
            self._idle[runner.number] = runner
        elif state == STARTING:
            self._starting += 1
        elif state == GONE:
            self._runners.pop(runner.number, None)

    def _dispatch(self) -> None:
        """Give queued jobs to idle runners."""
        while self._queue and self._idle:
            self._give(next(iter(self._idle.values())))

    def _give(self, runner: _Runner) -> None:
        key, payload = self._queue.popleft()
        self._move(runner, BUSY)
        runner.key, runner.payload = key, payload
        send(runner.conn, JOB + payload)   # type: ignore[arg-type]  # a runner that asked is connected

    def _stop(self, runner: _Runner) -> None:
        self._move(runner, GONE)
        if runner.conn is not None:
            send(runner.conn, STOP)

    def _never_started(self, number: int, error: Exception | None) -> None:
        """Runner `number` ended, or could not be asked for: if it never asked for a job, the oldest queued job
        fails with the reason (so that a runner that can never start fails jobs, not asks Ray for ever)."""
        runner = self._runners.get(number)
        if runner is None or runner.state != STARTING:
            return
        self._move(runner, GONE)
        if self._queue:
            key, _ = self._queue.popleft()
            why = f"{type(error).__name__}: {error}" if error is not None else "it ended at once"
            self._tell(key, None, RunnerLost(f"the Ray task that was to run the job failed ({why})"))

    def _wanted(self) -> list[int]:
        """Numbers for the runners to ask Ray for now: one per queued job no starting runner is on its way
        for, within the limit."""
        if self._closed:
            return []
        numbers: list[int] = []
        while self._starting < len(self._queue) and len(self._runners) < self._limit:
            self._numbers += 1
            runner = self._runners[self._numbers] = _Runner(self._numbers, state=GONE)
            self._move(runner, STARTING)
            numbers.append(self._numbers)
        return numbers

    # -- without it -------------------------------------------------------------------------------------

    def _start_runners(self, numbers: list[int]) -> None:
        for number in numbers:
            try:
                ref = self._submit(number)
            except Exception as e:  # noqa: BLE001  # Ray refused (shutting down, say): a job says why
                with self._lock:
                    self._never_started(number, e)
                continue
            with self._lock:
                if number in self._runners:
                    self._refs[number] = ref

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.fileobj is self._listener:
                    conn, _ = self._listener.accept()
                    self._selector.register(conn, selectors.EVENT_READ, bytearray())
                elif key.fileobj == self._wake_r:
                    return
                else:
                    self._read(key.fileobj, key.data)  # type: ignore[arg-type]  # only sockets besides

    def _read(self, conn: socket.socket, buffer: bytearray) -> None:
        """Take what a runner sent: its hello, a job's end, or the end of its connection."""
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(conn)
            conn.close()
            with self._lock:
                self._gone(self._by_conn.pop(conn, None))
                wanted = self._wanted()
            self._start_runners(wanted)
            return
        buffer += data
        while len(buffer) >= LENGTH.size:
            (size,) = LENGTH.unpack_from(buffer)
            if len(buffer) < LENGTH.size + size:
                break
            frame = bytes(buffer[LENGTH.size:LENGTH.size + size])
            del buffer[:LENGTH.size + size]
            with self._lock:
                self._frame(conn, frame)

    def _frame(self, conn: socket.socket, frame: bytes) -> None:
        kind, body = frame[:1], frame[1:]
        if kind == HELLO:
            runner = self._runners.get(int.from_bytes(body, "little"))
            if runner is None or runner.state != STARTING:  # not asked for (any more): nothing for it
                send(conn, STOP)
                return
            runner.conn = conn
            self._by_conn[conn] = runner
            if self._queue and not self._closed:
                self._give(runner)
            else:
                self._stop(runner)   # another runner took the job it was asked for, or the run is over
            return
        runner = self._by_conn.get(conn)
        if kind != ENDED or runner is None or runner.state != BUSY:
            return
        key, runner.key, runner.payload = runner.key, None, b""
        self._lost.pop(key, None)
        self._tell(key, body, None)
        if self._closed:
            self._stop(runner)
        elif self._queue:
            self._give(runner)
        else:
            self._move(runner, IDLE)   # until the driver's next batch of starts
            runner.idle_at = self._told

    def _gone(self, runner: _Runner | None) -> None:
        """A runner's connection ended: the job it ran, if any, goes back to the queue or ends lost."""
        if runner is None:
            return
        was = runner.state
        self._move(runner, GONE)
        if was != BUSY:
            return
        key = runner.key
        lost = self._lost.get(key, 0) + 1
        if lost <= self._retries and not self._closed:
            self._lost[key] = lost
            self._queue.appendleft((key, runner.payload))
            self._dispatch()
        else:
            self._lost.pop(key, None)
            self._tell(key, None, RunnerLost(f"the Ray worker running the job died ({lost} times)"))

    def _tell(self, key: Any, data: bytes | None, error: Exception | None) -> None:
        self._told += 1
        self._on_end(key, data, error)
