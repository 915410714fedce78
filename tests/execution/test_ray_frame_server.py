"""The driver's frame server against connections that do not say hello: each must send its first frame in
time, and only so many may be waiting to, so that whoever reaches the runners' port cannot hold the
driver's descriptors for the length of a run."""

from __future__ import annotations

import queue

import pytest
from support.pull_runners import connected
from support.waiting import BOUND

from hypermetric.execution.ray_runner import HELLO_SIZE, LENGTH, FrameServer, frame, hello

TOKEN = b"t" * 16


@pytest.fixture(params=["unix", "tcp"])
def serve(request):
    servers = []

    def make(**limits):
        frames: queue.Queue = queue.Queue()
        closed: queue.Queue = queue.Queue()

        def on_frame(conn, body) -> bool:
            frames.put((conn, body))
            return True

        server = FrameServer(None if request.param == "unix" else "127.0.0.1", on_frame, closed.put, **limits)
        servers.append(server)
        return server, frames, closed

    yield make
    for server in servers:
        server.close()


def _dropped(conn) -> bool:
    """Whether the server closed `conn` (without sending it anything)."""
    conn.settimeout(BOUND)   # reached only by a test that fails
    return conn.recv(64) == b""


def _taken(frames: queue.Queue, body: bytes):
    """The server's end of the connection whose frame `body` the server took next."""
    conn, taken = frames.get(timeout=BOUND)
    assert taken == body
    return conn


def test_a_connection_that_sends_no_hello_in_time_is_dropped(serve) -> None:
    server, _, closed = serve(hello_timeout=0.2)
    with connected(server.address) as silent, connected(server.address) as halfway:
        halfway.sendall(LENGTH.pack(HELLO_SIZE) + b"H")   # the start of a hello, and nothing more
        assert _dropped(silent)
        assert _dropped(halfway)
    closed.get(timeout=BOUND)
    closed.get(timeout=BOUND)


def test_a_connection_that_said_hello_is_kept_when_later_silent_ones_are_dropped(serve) -> None:
    server, frames, closed = serve(hello_timeout=0.2)
    with connected(server.address) as runner:
        runner.sendall(frame(hello(TOKEN, 1)))
        runner_end = _taken(frames, hello(TOKEN, 1))
        with connected(server.address) as silent:
            # Had the runner still been waiting for its hello, its earlier deadline would have dropped it first.
            assert _dropped(silent)
            assert closed.get(timeout=BOUND) is not runner_end
        assert closed.empty()
        runner.sendall(frame(b"E" + b"more"))
        assert _taken(frames, b"E" + b"more") is runner_end


def test_connections_beyond_those_waiting_for_their_hello_are_closed_at_once(serve) -> None:
    server, frames, closed = serve(max_pending=2)
    with connected(server.address) as first, connected(server.address) as second:
        with connected(server.address) as third:
            assert _dropped(third)
        first.sendall(frame(hello(TOKEN, 1)))   # one waits no more: there is room again
        _taken(frames, hello(TOKEN, 1))
        with connected(server.address) as fourth:
            fourth.sendall(frame(hello(TOKEN, 4)))
            _taken(frames, hello(TOKEN, 4))
            second.sendall(frame(hello(TOKEN, 2)))   # still served, however long it waited
            _taken(frames, hello(TOKEN, 2))
            assert closed.empty()   # the third was closed before it was served: nothing of it reached the caller


def test_a_failed_accept_does_not_stop_the_server(serve) -> None:
    server, frames, _ = serve()
    accept, failures = server._listener.accept, []

    def failing_once():
        if not failures:
            failures.append(True)
            raise ConnectionAbortedError("the client gave up first")
        return accept()

    server._listener.accept = failing_once
    with connected(server.address) as runner:   # still waiting to be accepted after the failure: then it is
        runner.sendall(frame(hello(TOKEN, 1)))
        _taken(frames, hello(TOKEN, 1))
    assert failures
