"""The start gate's published decisions: a task whose job the driver has already started (or dropped) reads
the answer from the driver's decisions file and makes no request over the socket (no Ray needed)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator

import pytest

from hypermetric.execution import ray_gate
from hypermetric.execution.ray_gate import DROP, GO, GateServer

_connects: list[object] = []


def _count_connects(event: str, args: tuple) -> None:
    if event == "socket.connect":
        _connects.append(args[1])


sys.addaudithook(_count_connects)   # audit hooks cannot be removed: this one only counts


@pytest.fixture
def gate() -> Iterator[GateServer]:
    ray_gate._drop_connection()   # each test starts as a fresh worker would
    server = GateServer()
    yield server
    server.close()


def _connections_while(action) -> tuple[object, int]:
    before = len(_connects)
    result = action()
    return result, len(_connects) - before


def test_a_decided_task_makes_no_request(gate) -> None:
    for token in range(1, 40):
        gate.decide(token, GO if token % 3 else DROP)
    answers, connects = _connections_while(lambda: [ray_gate.may_run(gate.path, t) for t in range(1, 40)])
    assert answers == [bool(t % 3) for t in range(1, 40)]
    assert connects == 0   # before the decisions were published, the first task connected and each asked


def test_decisions_beyond_the_first_page_are_published_too(gate) -> None:
    gate.decide(1, GO)
    assert ray_gate.may_run(gate.path, 1)   # maps the file's first page
    far = 3 * 4096 + 5   # the file grows while a worker has it mapped
    gate.decide(far, GO)
    gate.decide(far + 1, DROP)
    ray_gate._drop_connection()   # a request would have to connect again: counted
    answers, connects = _connections_while(lambda: [ray_gate.may_run(gate.path, far),
                                                     ray_gate.may_run(gate.path, far + 1)])
    assert answers == [True, False]
    assert connects == 0


def test_an_undecided_task_still_asks_and_waits(gate) -> None:
    answers: list[bool] = []
    asked = threading.Thread(target=lambda: answers.append(ray_gate.may_run(gate.path, 9)))
    asked.start()
    gate.decide(9, DROP)
    asked.join()
    assert answers == [False]


def test_after_close_a_published_go_is_not_read(tmp_path) -> None:
    ray_gate._drop_connection()
    server = GateServer()
    server.decide(1, GO)
    assert ray_gate.may_run(server.path, 1)
    path = server.path
    server.close()
    # the worker still has the old file mapped: it must not run a job the closed driver said yes to
    assert not ray_gate.may_run(path, 1)


def test_a_decision_after_close_is_no_error_and_runs_nothing() -> None:
    server = GateServer()
    path = server.path
    server.close()
    server.decide(3, GO)   # a drop or start racing the end of the run
    assert not ray_gate.may_run(path, 3)



def _ask_over_the_socket(server: GateServer, token: int) -> bool:
    """Ask `token` of `server` from another thread, and decide it GO only once the request has reached the
    server (or the asking has ended without one): the answer comes over the socket, never from the file."""
    ready = threading.Event()
    serve = server._read

    def read(conn) -> None:
        serve(conn)
        if token in server._waiting:
            ready.set()

    server._read = read  # type: ignore[method-assign]
    answers: list[bool] = []

    def ask() -> None:
        try:
            answers.append(ray_gate.may_run(server.path, token))
        finally:
            ready.set()

    asking = threading.Thread(target=ask)
    asking.start()
    ready.wait()
    server.decide(token, GO)
    asking.join()
    return answers[0]


def test_a_kept_connection_to_a_closed_gate_asks_the_new_gate_at_its_path(monkeypatch, tmp_path) -> None:
    """A worker outlives a run: its connection to the last run's gate, now closed, reads end-of-file. When
    the next run's gate gets the same path, a task must ask that gate rather than take the end for a no."""
    folder = str(tmp_path / "gate-folder")

    def same_folder(prefix: str) -> str:
        os.makedirs(folder)
        return folder

    monkeypatch.setattr(ray_gate.tempfile, "mkdtemp", same_folder)
    ray_gate._drop_connection()
    first = GateServer()
    assert _ask_over_the_socket(first, 2)
    kept = ray_gate._conn
    assert kept is not None and kept[0] == first.path
    first.close()
    second = GateServer()
    assert second.path == kept[0]
    try:
        assert _ask_over_the_socket(second, 5)
    finally:
        second.close()
