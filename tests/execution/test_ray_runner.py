"""The runner's side of jobs that share Ray tasks (`ray_runner.serve_jobs`), against a driver played by the test
on a real Unix socket: a job that raises ends the runner's connection, so the driver hears of it at once, and
a driver that goes away ends the runner quietly."""

from __future__ import annotations

import os
import socket
import tempfile
import threading

import pytest
from support.waiting import BOUND

from hypermetric.execution.ray_runner import ENDED, JOB, LENGTH, Listener, frame, hello, serve_jobs

TOKEN = bytes(range(16))


class _Driver:
    """A listening socket, the one runner connected to it, and what that runner's thread raised."""

    def __init__(self, tmp_path, run) -> None:
        self.path = str(tmp_path / "jobs")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.raised: list[BaseException] = []
        self.thread = threading.Thread(target=self._runner, args=(run,), daemon=True)
        self.thread.start()
        self.listener.settimeout(BOUND)
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(BOUND)   # reached only by a test that fails
        self.reader = self.conn.makefile("rb")

    def _runner(self, run) -> None:
        try:
            serve_jobs(self.path, TOKEN, 7, run)
        except BaseException as e:  # noqa: BLE001  # kept, as Ray keeps a task's error (and its traceback)
            self.raised.append(e)

    def read(self) -> bytes:
        """The next frame's body, or b"" once the runner's connection has ended."""
        head = self.reader.read(LENGTH.size)
        if len(head) < LENGTH.size:
            return b""
        (size,) = LENGTH.unpack(head)
        return self.reader.read(size)

    def close(self) -> None:
        self.reader.close()
        self.conn.close()
        self.listener.close()
        self.thread.join(BOUND)


@pytest.fixture
def driver(tmp_path):
    made: list[_Driver] = []

    def make(run) -> _Driver:
        made.append(_Driver(tmp_path, run))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_the_runner_says_hello_and_answers_each_job_with_its_end(driver) -> None:
    d = driver(lambda payload: payload.upper())
    assert d.read() == hello(TOKEN, 7)
    for payload in (b"a", b"bc"):
        d.conn.sendall(frame(JOB + payload))
        assert d.read() == ENDED + payload.upper()


def test_a_job_that_raises_ends_the_runners_connection(driver) -> None:
    d = driver(lambda payload: 1 // 0)
    d.read()
    d.conn.sendall(frame(JOB + b"a"))
    # fails on the code before: its buffered reader, held by the kept error's frames, kept the socket open
    assert d.read() == b""
    d.thread.join(BOUND)
    assert [type(e) for e in d.raised] == [ZeroDivisionError]


def test_a_driver_that_goes_away_mid_job_ends_the_runner_quietly(driver) -> None:
    running, release = threading.Event(), threading.Event()

    def run(payload: bytes) -> bytes:
        running.set()
        assert release.wait(BOUND)
        return payload

    d = driver(run)
    d.read()
    d.conn.sendall(frame(JOB + b"a"))
    assert running.wait(BOUND)
    d.reader.close()
    d.conn.close()
    release.set()
    d.thread.join(BOUND)
    assert not d.thread.is_alive() and d.raised == []


def test_a_socket_the_temporary_folder_cannot_hold_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    deep = tmp_path / ("d" * 120)   # a socket's path holds at most 107 bytes
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    with pytest.raises(OSError):
        Listener()
    assert os.listdir(deep) == []   # the caller then runs a Ray task per job instead


@pytest.mark.parametrize("host", [None, "127.0.0.1"])
def test_a_runner_that_cannot_reach_the_driver_says_why(tmp_path, host) -> None:
    listener = Listener(host)
    address = listener.address
    listener.close()   # nothing listens there any more
    why = serve_jobs(address, TOKEN, 1, lambda payload: payload)
    assert why is not None and why.startswith(("ConnectionRefusedError", "FileNotFoundError")), why
