"""A start gate for Ray tasks handed to Ray ahead of their turn: the worker asks the driver before the job runs.

The Ray backend hands a job to Ray before the scheduler starts it, so that a worker that ends a task finds the
next one queued and keeps its lease (without one queued, the driver gives the worker back to the raylet and
asks for a new one per job, which costs more CPU than the job protocol itself). Ray may then start such a task
at any moment, also after a failure has stopped the run; so the task first asks the driver, over a Unix
socket, whether to run: the driver answers `GO` once the scheduler has started the job, `DROP` if it never
will. Until then the task waits, having touched none of the job's files. Only a Ray whose workers all run on
this machine (one this process started) gets such tasks.

Most tasks need not ask: a worker that ends a job takes the next task at once, while the driver decides on
it as soon as it hears of that end, usually before the task gets to ask (nine in ten at `-j2`). So the driver
also writes each decision, one byte at the token's offset, into a file beside the socket that every worker
maps into memory (byte 0 says the driver still serves); a task whose decision is there reads it without a
system call, and only one that finds none asks over the socket and waits. The file grows by a byte per token
(a million jobs handed over ahead: a megabyte, only ever grown, so a worker's older, shorter mapping stays
valid), and `close` marks it closed first, so that from then on every task asks and gets no answer.

Each worker process keeps one connection to the driver for all its tasks; a request is the task's 8-byte
token, the answer one byte. A worker outlives a run, so a kept connection that ends (its gate has closed) is
replaced once by a new one, in case the next run's gate has the same path; a task that cannot ask then (the
driver has gone, the socket is closed) never runs its job. The driver serves the socket from one thread; an
answer decided while a task waits is sent at once by whoever decides it.
"""

from __future__ import annotations

import mmap
import os
import selectors
import shutil
import socket
import tempfile
import threading

GO, DROP = b"1", b"0"
_TOKEN = 8
DECISIONS = "decisions"   # the file of decisions, beside the socket
_SERVING = 1              # byte 0 of that file while the driver serves
_conn: tuple[str, socket.socket] | None = None   # this worker's connection to a driver's gate, and its path
_view: tuple[str, mmap.mmap] | None = None       # this worker's mapping of that driver's decisions, and its path


class GateServer:
    """The driver's side: answers each token's request with the decision made for it (`decide`), waiting
    for one if none is made yet. Decisions are kept until `forget`, so that a task Ray runs again (its worker
    died) gets the same answer."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="hm-gate-")
        self.path = os.path.join(self._dir, "gate")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(64)
        fd = os.open(os.path.join(self._dir, DECISIONS), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(fd, mmap.PAGESIZE)
            self._decisions = mmap.mmap(fd, mmap.PAGESIZE)
        finally:
            os.close(fd)
        self._decisions[0] = _SERVING
        self._lock = threading.Lock()
        self._answers: dict[int, bytes] = {}
        self._waiting: dict[int, socket.socket] = {}     # token -> the connection that asked, not answered yet
        self._buffers: dict[socket.socket, bytes] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="hypermetric-ray-gate", daemon=True)
        self._thread.start()

    def decide(self, token: int, answer: bytes) -> bool:
        """Answer `token` with `answer` (now if its task waits); whether its task was waiting."""
        with self._lock:
            self._answers[token] = answer
            self._publish(token, answer)
            conn = self._waiting.pop(token, None)
        if conn is not None:
            _send(conn, answer)
        return conn is not None

    def forget(self, token: int) -> None:
        """The token's task has ended: its decision is no longer needed."""
        with self._lock:
            self._answers.pop(token, None)

    def close(self) -> None:
        """Stop serving; tasks still waiting, or asking later, get no answer and do not run their jobs."""
        with self._lock:
            self._decisions[0] = 0   # first: a task that looks from now on finds no decision and asks
        os.write(self._wake_w, b"x")
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            if isinstance(key.fileobj, socket.socket):
                key.fileobj.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        with self._lock:
            self._decisions.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _publish(self, token: int, answer: bytes) -> None:
        """Write the decision for `token` where the workers read it (the caller holds the lock); after `close`,
        nowhere: no task runs on a decision made then."""
        if self._decisions.closed:
            return
        size = len(self._decisions)
        if token >= size:
            self._decisions.resize(max(2 * size, (token // mmap.PAGESIZE + 1) * mmap.PAGESIZE))
        self._decisions[token] = answer[0]

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.fileobj is self._listener:
                    conn, _ = self._listener.accept()
                    self._buffers[conn] = b""
                    self._selector.register(conn, selectors.EVENT_READ)
                elif key.fileobj == self._wake_r:
                    return
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]  # only sockets are registered besides

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:  # the worker has gone: a task of it that waited is asked again when Ray repeats it
            self._selector.unregister(conn)
            del self._buffers[conn]
            with self._lock:
                for token in [t for t, c in self._waiting.items() if c is conn]:
                    del self._waiting[token]
            conn.close()
            return
        data = self._buffers[conn] + data
        while len(data) >= _TOKEN:
            token = int.from_bytes(data[:_TOKEN], "little")
            data = data[_TOKEN:]
            with self._lock:
                answer = self._answers.get(token)
                if answer is None:
                    self._waiting[token] = conn
            if answer is not None:
                _send(conn, answer)
        self._buffers[conn] = data


def _send(conn: socket.socket, answer: bytes) -> None:
    try:
        conn.sendall(answer)
    except OSError:
        pass  # the worker has gone; the serving thread closes the connection


def may_run(path: str, token: int) -> bool:
    """The worker's side: whether the driver says to run the task of `token` (blocks until it decides). No
    answer (the driver has gone) is no."""
    decided = _published(path, token)
    if decided:
        return decided == GO[0]
    kept = _conn is not None and _conn[0] == path
    answer = _ask(path, token)
    if not answer and kept:  # the kept connection was to a gate since closed: ask whichever gate is there now
        answer = _ask(path, token)
    return answer == GO


def _ask(path: str, token: int) -> bytes:
    """The driver's answer for `token` over this worker's connection to `path` (made now unless kept); b""
    when there is none, and then the connection is dropped."""
    global _conn
    try:
        if _conn is None or _conn[0] != path:
            _drop_connection()
            _conn = (path, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            _conn[1].connect(path)
        _conn[1].sendall(token.to_bytes(_TOKEN, "little"))
        answer = _conn[1].recv(1)
    except OSError:  # the driver has gone, or never listened here
        answer = b""
    except BaseException:  # interrupted mid-request: what the connection would read next is unknown
        _drop_connection()
        raise
    if not answer:
        _drop_connection()
    return answer


def _drop_connection() -> None:
    global _conn
    if _conn is not None:
        _conn[1].close()
    _conn = None


def _published(path: str, token: int) -> int:
    """The decision the driver of the gate at `path` has written for `token` (0: none yet, the driver no
    longer serves, or the file cannot be read; then the task asks)."""
    global _view
    if _view is None or _view[0] != path or token >= len(_view[1]):  # another driver, or the file has grown
        if _view is not None:
            _view[1].close()
            _view = None
        try:
            fd = os.open(os.path.join(os.path.dirname(path), DECISIONS), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return 0
        try:
            _view = (path, mmap.mmap(fd, 0, access=mmap.ACCESS_READ))
        except (OSError, ValueError):
            return 0
        finally:
            os.close(fd)
    view = _view[1]
    if view[0] != _SERVING:  # mapped again next time: a later driver may get the same path
        view.close()
        _view = None
        return 0
    return view[token] if token < len(view) else 0
