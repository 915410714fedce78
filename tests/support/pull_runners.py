"""Runners for tests of `ray_pull.Dispatcher` without Ray: each runner is a thread that runs `serve_jobs` with a
fake job (or a client made by hand); `submit` only notes each runner asked for, and a test starts it when it
says so: which runner takes which job is then decided by the test, never by a race."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import BinaryIO

from hypermetric.execution.ray_pull import Dispatcher
from hypermetric.execution.ray_runner import ENDED, LENGTH, Address, family, frame, hello, serve_jobs
from support.waiting import BOUND


class Runners:
    """The fake Ray: the runners asked for, the jobs they ran, and the ends the dispatcher told."""

    def __init__(self, limit: int, retries: int, host: str | None = None) -> None:
        self.asked: list[int] = []
        self.asks: queue.Queue[int] = queue.Queue()
        self.ran: list[tuple[int, bytes]] = []
        self.running: queue.Queue[tuple[int, bytes]] = queue.Queue()
        self.gates: dict[bytes, threading.Event] = {}
        self.ends: queue.Queue[tuple] = queue.Queue()
        self.threads: dict[int, threading.Thread] = {}
        self.errors: list[str] = []
        self.returned: queue.Queue[str | None] = queue.Queue()
        self.closed = False
        self.fallen: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.dispatcher = Dispatcher(self.submit, lambda *end: self.ends.put(end), limit=limit, retries=retries,
                                     host=host, fallback=lambda key, payload: self.fallen.put((key, payload)))

    def submit(self, number: int) -> tuple[str, int]:
        self.asked.append(number)
        self.asks.put(number)
        return ("ref", number)

    def start(self, number: int, client=None) -> threading.Thread:
        """Start runner `number`: `serve_jobs` with `run`, or `client(address, token, number)`; what it
        returns (why it could not connect) goes to `returned`."""
        target = client or partial(serve_jobs, run=partial(self.run, number))

        def guarded() -> None:
            try:
                self.returned.put(target(self.dispatcher.address, self.dispatcher.token, number))
            except BaseException as exc:  # noqa: BLE001  # told by the teardown, not lost in a thread
                self.errors.append(repr(exc))  # not the exception: its frames would hold the socket open

        thread = self.threads[number] = threading.Thread(target=guarded, daemon=True)
        thread.start()
        return thread

    def start_next(self, client=None) -> threading.Thread:
        return self.start(self.asks.get(timeout=BOUND), client)

    def run(self, number: int, payload: bytes) -> bytes:
        self.ran.append((number, payload))
        self.running.put((number, payload))
        if payload in self.gates:
            assert self.gates[payload].wait(BOUND)
        return b"done:" + payload

    def gate(self, payload: bytes) -> threading.Event:
        """Hold the job `payload` in `run` until the event returned is set."""
        return self.gates.setdefault(payload, threading.Event())

    def hold_a(self) -> threading.Event:
        """Put job "a" and run it on runner 1, held until the event returned is set."""
        release = self.gate(b"a")
        self.put("a")
        self.start_next()
        assert self.running.get(timeout=BOUND) == (1, b"a")
        return release

    def end(self) -> tuple:
        return self.ends.get(timeout=BOUND)

    def put(self, *keys: str) -> None:
        for key in keys:
            self.dispatcher.put(key, key.encode())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.dispatcher.close()

    def stopped(self, number: int) -> bool:
        self.threads[number].join(BOUND)
        return not self.threads[number].is_alive()


def made_runners(host: str | None) -> Iterator[Callable[..., Runners]]:
    """The body of a fixture that makes `Runners` on `host` (None: a Unix socket), and checks at the end that
    every runner stopped and none raised."""
    made: list[Runners] = []

    def make(limit: int = 1, retries: int = 0) -> Runners:
        made.append(Runners(limit, retries, host))
        return made[-1]

    yield make
    for runners in made:
        for gate in runners.gates.values():
            gate.set()
        runners.close()
        assert all(runners.stopped(number) for number in runners.threads)
        assert runners.errors == []


def connected(address: Address) -> socket.socket:
    """A socket connected to the dispatcher at `address`, as a runner's would be."""
    conn = socket.socket(family(address), socket.SOCK_STREAM)
    try:
        conn.connect(address)
    except OSError:
        conn.close()
        raise
    return conn


@contextmanager
def first_job(address: Address, token: bytes, number: int) -> Iterator[tuple[socket.socket, BinaryIO, bytes]]:
    """A runner made by hand that has said hello and read its first job: its connection, reader and job."""
    with connected(address) as conn:
        conn.sendall(frame(hello(token, number)))
        with conn.makefile("rb") as reader:
            (size,) = LENGTH.unpack(reader.read(LENGTH.size))
            yield conn, reader, reader.read(size)


def dies_with_its_job(seen: queue.Queue, address: Address, token: bytes, number: int) -> None:
    """A runner whose worker dies: it takes a job and drops the connection without an end."""
    with first_job(address, token, number) as (_, _, job):
        seen.put(job)


def stays_after_its_job(heard: queue.Queue, address: Address, token: bytes, number: int) -> None:
    """A runner that runs one job, then says what the driver sent next: a frame, or b"" for the end."""
    with first_job(address, token, number) as (conn, reader, job):
        conn.sendall(frame(ENDED + b"done:" + job[1:]))
        head = reader.read(LENGTH.size)
        heard.put(reader.read(LENGTH.unpack(head)[0]) if head else b"")
