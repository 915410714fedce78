"""The runner's side of jobs that share Ray tasks (`ray_pull`), the driver's socket, and the frames both send.

The driver listens on a Unix socket when every worker of its Ray runs on this machine (a Ray it started),
else on a TCP port of the address Ray knows this node by. A frame is a 4-byte length and a body whose first
byte says what it is: from a runner, `HELLO` with the run's token and its number, then `ENDED` with each job's
outcome (`ray_codec.outcome_bytes`); from the driver, `JOB` with a `ray_codec.payload`, or `STOP`. The
token, random per run and sent to runners through Ray, keeps anyone else who reaches the port from taking
or ending jobs; a connection must send it soon, and only so many may be waiting to, so that whoever reaches
the port cannot hold the driver's descriptors either.
"""

from __future__ import annotations

import hmac
import os
import selectors
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from typing import BinaryIO, Union

HELLO, ENDED, JOB, STOP = b"H", b"E", b"J", b"S"
LENGTH = struct.Struct("<I")
TOKEN_SIZE = 16
HELLO_SIZE = 1 + TOKEN_SIZE + 8
CONNECT_TIMEOUT = 10.0   # a port a firewall drops would otherwise keep the runner for minutes
HELLO_TIMEOUT = 30.0     # a runner sends its hello as soon as it is connected
MAX_PENDING_HELLOS = 256   # connections waiting for their hello at once; more are closed when accepted

Address = Union[str, tuple[str, int]]   # a Unix socket's path, or a TCP host and port


def family(address: Address) -> socket.AddressFamily:
    """The socket family of `address`: a Unix socket's path, or a TCP (IPv4 or IPv6) host and port."""
    if isinstance(address, str):
        return socket.AF_UNIX
    return socket.AF_INET6 if ":" in address[0] else socket.AF_INET


def _no_delay(conn: socket.socket) -> socket.socket:
    """`conn`, sending each frame at once where it is TCP (frames are small)."""
    if conn.family != socket.AF_UNIX:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


class Listener:
    """The driver's listening socket: on a Unix socket in a fresh folder only this user may enter (`host`
    None), else on a free TCP port of `host`. An `OSError` (a path too long for a socket) leaves nothing
    behind."""

    def __init__(self, host: str | None = None) -> None:
        self._folder: str | None = None
        if host is None:
            self._folder = tempfile.mkdtemp(prefix="hm-pull-")
            self.address: Address = os.path.join(self._folder, "jobs")
        else:
            self.address = (host, 0)
        self.socket = socket.socket(family(self.address), socket.SOCK_STREAM)
        try:
            self.socket.bind(self.address)
            self.socket.listen(64)
        except OSError:
            self.close()
            raise
        if host is not None:
            self.address = (host, self.socket.getsockname()[1])

    def accept(self) -> socket.socket:
        conn = self.socket.accept()[0]
        try:
            return _no_delay(conn)
        except OSError:
            conn.close()
            raise

    def close(self) -> None:
        self.socket.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


class FrameServer:
    """Listens (a `Listener` on `host`) and serves in a thread of its own: each whole frame a connection sends
    goes to `on_frame(conn, body)`, which returns False to drop the connection, and each connection's end (or
    drop) to `on_closed(conn)`. Until a connection's first frame is taken, it may send no more than a hello,
    must send it within `hello_timeout` seconds, and is one of at most `max_pending` such connections (a
    connection beyond them is closed at once): a stranger can make the driver neither buffer more nor hold
    descriptors for long."""

    def __init__(self, host: str | None, on_frame: Callable[[socket.socket, bytes], bool],
                 on_closed: Callable[[socket.socket], None], hello_timeout: float = HELLO_TIMEOUT,
                 max_pending: int = MAX_PENDING_HELLOS) -> None:
        self._on_frame, self._on_closed = on_frame, on_closed
        self._hello_timeout, self._max_pending = hello_timeout, max_pending
        self._pending: dict[socket.socket, float] = {}  # connections without a frame taken: their deadlines
        listener = self._listener = Listener(host)
        self.address = listener.address
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        for source in (listener.socket, self._wake_r):
            self._selector.register(source, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="hypermetric-ray-runners", daemon=True)
        self._thread.start()

    def serving(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop serving, and close every connection and the listener."""
        os.write(self._wake_w, b"x")
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            if isinstance(key.fileobj, socket.socket) and key.fileobj is not self._listener.socket:
                key.fileobj.close()
        self._selector.close()
        self._listener.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select(self._next_deadline()):
                if key.fileobj is self._listener.socket:
                    self._accept()
                elif key.fileobj == self._wake_r:
                    return
                else:
                    self._read(key.fileobj, key.data)  # type: ignore[arg-type]  # only sockets besides
            self._drop_late()

    def _accept(self) -> None:
        try:
            conn = self._listener.accept()
        except OSError:  # the client gave up before it was accepted; or no descriptor is free right now
            return
        if len(self._pending) >= self._max_pending:
            conn.close()
            return
        self._pending[conn] = time.monotonic() + self._hello_timeout
        self._selector.register(conn, selectors.EVENT_READ, bytearray())  # what is not a whole frame yet

    def _next_deadline(self) -> float | None:
        """Seconds until the oldest connection waiting for its hello is late; None while none waits."""
        for deadline in self._pending.values():  # in the order accepted, so the first is the earliest
            return max(0.0, deadline - time.monotonic())
        return None

    def _drop_late(self) -> None:
        """Drops the connections whose hello is late (the first ones accepted, as deadlines only grow)."""
        if not self._pending:  # (the usual case, after every frame: no clock read)
            return
        now = time.monotonic()
        while self._pending:
            conn, deadline = next(iter(self._pending.items()))
            if deadline > now:
                return
            self._drop(conn)

    def _read(self, conn: socket.socket, buffer: bytearray) -> None:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        buffer += data
        if not data or (conn in self._pending and len(buffer) > LENGTH.size + HELLO_SIZE):
            self._drop(conn)
            return
        while len(buffer) >= LENGTH.size:
            (size,) = LENGTH.unpack_from(buffer)
            if len(buffer) < LENGTH.size + size:
                break
            body = bytes(buffer[LENGTH.size:LENGTH.size + size])
            del buffer[:LENGTH.size + size]
            if not self._on_frame(conn, body):
                self._drop(conn)
                return
            self._pending.pop(conn, None)  # its first frame is taken: no more waiting for a hello

    def _drop(self, conn: socket.socket) -> None:
        self._pending.pop(conn, None)
        self._selector.unregister(conn)
        conn.close()
        self._on_closed(conn)


def frame(body: bytes) -> bytes:
    return LENGTH.pack(len(body)) + body


def hello(token: bytes, number: int) -> bytes:
    return HELLO + token + number.to_bytes(8, "little")


def greeting(body: bytes, token: bytes) -> int | None:
    """The runner number of a hello with the run's `token`; None for any other frame."""
    if len(body) != HELLO_SIZE or body[:1] != HELLO or not hmac.compare_digest(body[1:1 + TOKEN_SIZE], token):
        return None
    return int.from_bytes(body[1 + TOKEN_SIZE:], "little")


def send(conn: socket.socket, body: bytes) -> None:
    """The driver's send: a runner that has gone is no error (the dispatcher sees its connection end)."""
    try:
        conn.sendall(frame(body))
    except OSError:
        pass


def serve_jobs(address: Address, token: bytes, number: int, run: Callable[[bytes], bytes]) -> str | None:
    """Connect to the driver at `address` as runner `number`, and run each job it sends with `run` (a payload
    in, the outcome's bytes out) until it says stop or goes away; then None. Failing to connect returns why
    (the driver then gives its jobs a Ray task each); the connection ending later is the driver's end."""
    with socket.socket(family(address), socket.SOCK_STREAM) as conn:
        try:
            reader = _connected(conn, address)
        except OSError as e:
            return f"{type(e).__name__}: {e}"
        with reader:
            try:
                conn.sendall(frame(hello(token, number)))
                while True:
                    head = reader.read(LENGTH.size)
                    if len(head) < LENGTH.size:
                        return None
                    (size,) = LENGTH.unpack(head)
                    message = reader.read(size)
                    if len(message) < size or message[:1] != JOB:
                        return None
                    conn.sendall(frame(ENDED + run(message[1:])))
            except (BrokenPipeError, ConnectionResetError):
                return None


def _connected(conn: socket.socket, address: Address) -> BinaryIO:
    """`conn` connected to `address`, read through a buffered file that the caller closes (a file left open
    would keep the connection open after an error, and the driver would wait for the job for ever)."""
    conn.settimeout(CONNECT_TIMEOUT)
    conn.connect(address)
    conn.settimeout(None)
    return _no_delay(conn).makefile("rb")
