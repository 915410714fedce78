"""The runner's side of jobs that share Ray tasks (`ray_pull`), the driver's socket, and the frames both send.

A frame is a 4-byte length and a body whose first byte says what it is: from a runner, `HELLO` with its
number, then `ENDED` with each job's outcome (`ray_codec.outcome_bytes`); from the driver, `JOB` with a
`ray_codec.payload`, or `STOP`.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import tempfile
from collections.abc import Callable
from typing import BinaryIO

HELLO, ENDED, JOB, STOP = b"H", b"E", b"J", b"S"
LENGTH = struct.Struct("<I")


def listen() -> tuple[str, socket.socket]:
    """The driver's listening socket, in a fresh folder only this user may enter: its path, and the socket
    (the caller removes the folder). An `OSError` (a path too long for a socket) leaves nothing behind."""
    folder = tempfile.mkdtemp(prefix="hm-pull-")
    path = os.path.join(folder, "jobs")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(64)
    except OSError:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path, listener


def frame(body: bytes) -> bytes:
    return LENGTH.pack(len(body)) + body


def send(conn: socket.socket, body: bytes) -> None:
    """The driver's send: a runner that has gone is no error (the dispatcher sees its connection end)."""
    try:
        conn.sendall(frame(body))
    except OSError:
        pass


def serve_jobs(path: str, number: int, run: Callable[[bytes], bytes]) -> None:
    """Connect to the driver at `path` as runner `number`, and run each job it sends with `run` (a payload
    in, the outcome's bytes out) until it says stop or goes away. Failing to connect raises (the driver
    hears why from Ray); the connection ending later is the driver's end, and returns."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn, _connected(conn, path) as reader:
        try:
            conn.sendall(frame(HELLO + number.to_bytes(8, "little")))
            while True:
                head = reader.read(LENGTH.size)
                if len(head) < LENGTH.size:
                    return
                (size,) = LENGTH.unpack(head)
                message = reader.read(size)
                if len(message) < size or message[:1] != JOB:
                    return
                conn.sendall(frame(ENDED + run(message[1:])))
        except (BrokenPipeError, ConnectionResetError):
            return


def _connected(conn: socket.socket, path: str) -> BinaryIO:
    """`conn` connected to `path`, read through a buffered file that the caller closes (a file left open
    would keep the connection open after an error, and the driver would wait for the job for ever)."""
    conn.connect(path)
    return conn.makefile("rb")
