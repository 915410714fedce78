"""Jobs that share Ray tasks: each Ray task, a *runner*, runs job after job sent by the driver.

A Ray task per job costs the driver a submission and a completion, and the worker Ray's own start and end of
the task: together more than the whole job protocol. The backend therefore runs its jobs of the default kind
in runners: Ray tasks that connect to the driver (a Unix socket on a Ray it started, else a TCP port) and run
the jobs it sends them one at a time, each job's end told back at once. A runner that ends a job gets the
next one the scheduler has started: it keeps its worker and its share of the cluster, and Ray is not asked
again.

The `Dispatcher` is the driver's side. Started jobs wait in its queue for a free runner; it asks for a new
runner (the backend's `submit`) only for a queued job no runner is on its way for, and never for more than
`limit` at once. A runner with nothing to run waits until the driver has taken its last end and made the
starts that end called for (`between_batches`), then is told to stop, giving its CPU back. When a runner's
connection ends while it runs a job (its worker died), the job is queued again, up to `retries` times, as Ray
retries a task whose worker died: the dead worker's watchdog stops the job's processes, and the next attempt
waits for the job's lock. A runner that ends before it asks for a job fails the oldest queued job with the
reason, so that a runner that can never start fails jobs instead of being asked for again and again. A
runner that cannot reach the driver (a firewall between nodes, say) says so, and from then on every job goes
to `fallback` (a Ray task of its own). The runner's side and the frames are in `ray_runner`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypermetric.execution.ray_runner import ENDED, JOB, STOP, TOKEN_SIZE, FrameServer, greeting, send

# A runner's states: asked of Ray, not connected yet; waiting for a job; running one; told to stop or gone.
STARTING, IDLE, BUSY, GONE = "starting", "idle", "busy", "gone"
_Fallback = Callable[[Any, bytes], None]


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
    """The driver's side, listening on a Unix socket (`host` None) or a TCP port of `host`. `submit(number)`
    asks Ray for runner `number` and returns its ref (called without the lock held); `on_end(key, data,
    error)` hears each job's end: its outcome's bytes, or a `RunnerLost`; `fallback(key, payload)` runs a job
    another way once runners cannot reach the driver (called where `put` and `between_batches` are)."""

    def __init__(self, submit: Callable[[int], Any], on_end: Callable[[Any, bytes | None, Exception | None], None],
                 limit: int, retries: int, *, host: str | None = None, fallback: _Fallback) -> None:
        self._submit, self._on_end, self._fallback = submit, on_end, fallback
        self._limit, self._retries = max(1, limit), max(0, retries)
        self.token = os.urandom(TOKEN_SIZE)
        self.unreachable: str | None = None   # why a runner could not connect: then jobs go to `fallback`
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
        self._server = FrameServer(host, self._take, self._closed_conn)
        self.address = self._server.address

    def put(self, key: Any, payload: bytes) -> None:
        """Run the job `payload` on the next free runner; its end comes to `on_end` under `key`."""
        with self._lock:
            if self._closed:  # after Ctrl-C: it ends at once, as the queued ones did
                self._tell(key, None, RunnerLost("interrupted"))
                return
            self._queue.append((key, payload))
            self._dispatch()
            moved, wanted = self._unqueue(), self._wanted()
        self._hand_over(moved, wanted)

    def set_limit(self, limit: int) -> None:
        """Ask Ray for at most `limit` runners at once from now on (a cluster that grew holds more)."""
        with self._lock:
            self._limit = max(1, limit)

    def between_batches(self, taken: int) -> None:
        """The driver has taken the first `taken` ends and made the starts they called for: each runner with
        nothing to run whose last end was among those stops (another may get the job its end lets start), and
        Ray is asked for the runners queued jobs lack (for one that failed to start, say). Once runners cannot
        reach the driver, the queued jobs go to `fallback`."""
        with self._lock:
            for runner in [r for r in self._idle.values() if r.idle_at <= taken]:
                self._stop(runner)
            moved, wanted = self._unqueue(), self._wanted()
        self._hand_over(moved, wanted)

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

    def runner_ended(self, number: int, error: Exception | None, unreachable: str | None = None) -> bool:
        """Ray says the task of runner `number` has ended, with `error` if it failed, or with why it could not
        reach the driver. Called from Ray's callback thread, where asking Ray for a new runner is not safe:
        `between_batches` does that. True when this made the runners unreachable (the driver should look)."""
        with self._lock:
            self._refs.pop(number, None)
            runner = self._runners.get(number)
            if unreachable is None or runner is None or runner.state != STARTING:
                self._never_started(number, error)
                return False
            self._move(runner, GONE)
            first, self.unreachable = self.unreachable is None, self.unreachable or unreachable
            return first

    def close(self) -> list[Any]:
        """Stop serving: runners still connected are told to stop (or see the connection end); the end of a
        job still running is not heard. Returns the refs of the runners Ray has not started yet, for the
        caller to cancel. A second call does nothing."""
        with self._lock:
            if not self._server.serving():   # it serves until the first call
                return []
            self._closed = True
            for runner in list(self._idle.values()):
                self._stop(runner)
            waiting = [self._refs[n] for n, r in self._runners.items() if r.state == STARTING and n in self._refs]
        self._server.close()
        return waiting

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

    def _unqueue(self) -> list[tuple[Any, bytes]]:
        """Once runners cannot reach the driver, the queued jobs, taken from the queue for `fallback`."""
        if self.unreachable is None or self._closed or not self._queue:
            return []
        moved, self._queue = list(self._queue), deque()
        for key, _ in moved:
            self._lost.pop(key, None)
        return moved

    def _wanted(self) -> list[int]:
        """Numbers for the runners to ask Ray for now: one per queued job no starting runner is on its way
        for, within the limit; none once runners cannot reach the driver (a job queued again in between, its
        runner dead, waits for `fallback`)."""
        if self._closed or self.unreachable is not None:
            return []
        numbers: list[int] = []
        while self._starting < len(self._queue) and len(self._runners) < self._limit:
            self._numbers += 1
            runner = self._runners[self._numbers] = _Runner(self._numbers, state=GONE)
            self._move(runner, STARTING)
            numbers.append(self._numbers)
        return numbers

    # -- without it -------------------------------------------------------------------------------------

    def _hand_over(self, moved: list[tuple[Any, bytes]], wanted: list[int]) -> None:
        for key, payload in moved:
            self._fallback(key, payload)
        self._start_runners(wanted)

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

    def _closed_conn(self, conn: socket.socket) -> None:
        """A connection ended (or was dropped): its runner, if any, is gone."""
        with self._lock:
            self._gone(self._by_conn.pop(conn, None))
            wanted = self._wanted()
        self._start_runners(wanted)

    def _take(self, conn: socket.socket, frame: bytes) -> bool:
        with self._lock:
            return self._frame(conn, frame)

    def _frame(self, conn: socket.socket, frame: bytes) -> bool:
        """Act on one frame; False for a connection to drop (not a runner of this run)."""
        runner = self._by_conn.get(conn)
        if runner is None:
            number = greeting(frame, self.token)
            if number is None:
                return False
            runner = self._runners.get(number)
            if runner is None or runner.state != STARTING:  # not asked for (any more): nothing for it
                send(conn, STOP)
                return True
            runner.conn = conn
            self._by_conn[conn] = runner
            if self._queue and not self._closed:
                self._give(runner)
            else:
                self._stop(runner)   # another runner took the job it was asked for, or the run is over
            return True
        if frame[:1] != ENDED or runner.state != BUSY:
            return True
        key, runner.key, runner.payload = runner.key, None, b""
        self._lost.pop(key, None)
        self._tell(key, frame[1:], None)
        if self._closed:
            self._stop(runner)
        elif self._queue:
            self._give(runner)
        else:
            self._move(runner, IDLE)   # until the driver's next batch of starts
            runner.idle_at = self._told
        return True

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
