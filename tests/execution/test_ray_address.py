"""The Ray address probe: what an address names, and how quickly a wrong one is a user error (a closed port,
or a port where something other than a Ray head listens); Ray itself would retry either for minutes or for
ever."""

from __future__ import annotations

import socket
import threading

import pytest

from hypermetric.errors import UsageError
from hypermetric.execution.ray_cluster import check_reachable, endpoint

TIMEOUT = 60.0


@pytest.mark.parametrize("address,expected", [
    ("10.0.0.1:6379", ("10.0.0.1", 6379)), ("head", ("head", 6379)), ("ray://head:1234", ("head", 1234)),
    ("ray://head", ("head", 10001)), ("[::1]:7000", ("::1", 7000)), ("auto", None), ("local", None),
])
def test_endpoint_of_a_ray_address(address, expected) -> None:
    assert endpoint(address) == expected


def test_an_unreachable_ray_address_is_a_usage_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UsageError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        check_reachable(f"127.0.0.1:{port}")


def _serve_once(server: socket.socket, reply: bytes) -> threading.Thread:
    """Accept one connection on `server`, send `reply` once the client has spoken, then close."""
    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            try:
                conn.recv(64)
                conn.sendall(reply)
                conn.recv(64)
            except OSError:  # the client hung up first (it has read all it wanted)
                pass
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


SETTINGS_FRAME = bytes([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100])  # MAX_CONCURRENT_STREAMS=100


@pytest.mark.parametrize("reply,head", [(SETTINGS_FRAME, True), (b"", False),
                                        (b"HTTP/1.1 400 Bad Request\r\n\r\n", False)],
                         ids=["grpc", "silent", "http1"])
def test_a_ray_address_where_something_else_listens_is_a_usage_error(reply, head) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        thread = _serve_once(server, reply) if reply else None
        try:
            if head:
                check_reachable(address, timeout=TIMEOUT)
                return
            # a silent listener is judged when the timeout has passed, however loaded the machine is
            with pytest.raises(UsageError, match=f"cannot join the Ray cluster at {address}: .*not a Ray head"):
                check_reachable(address, timeout=0.5 if not reply else TIMEOUT)
        finally:
            if thread is not None:
                thread.join(TIMEOUT)
