"""The Ray backend's jobs handed over ahead of their turn: the driver's start gate and the bookkeeping of such
tasks (no Ray needed: a stand-in records what would be cancelled)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from jobs import make_job

from hypermetric.execution import ray_gate
from hypermetric.execution.ray_ahead import Ahead
from hypermetric.execution.ray_gate import DROP, GO, GateServer
from hypermetric.plan.job import Resources


@pytest.fixture
def gate():
    server = GateServer()
    yield server
    server.close()


def test_a_task_runs_only_when_the_driver_says_go(gate) -> None:
    gate.decide(1, GO)
    gate.decide(2, DROP)
    assert ray_gate.may_run(gate.path, 1)
    assert not ray_gate.may_run(gate.path, 2)
    assert ray_gate.may_run(gate.path, 1)  # a task Ray runs again gets the same answer until it is forgotten


def test_a_task_that_asks_first_waits_for_the_decision(gate) -> None:
    answers: list[bool] = []
    asked = threading.Thread(target=lambda: answers.append(ray_gate.may_run(gate.path, 7)))
    asked.start()
    # the decision reaches the waiting task whether it comes before or after the server saw the request
    assert gate.decide(7, GO) in (True, False)
    asked.join()
    assert answers == [True]


def test_no_answer_is_no(tmp_path) -> None:
    server = GateServer()
    path = server.path
    waiting: list[bool] = []
    asked = threading.Thread(target=lambda: waiting.append(ray_gate.may_run(path, 3)))
    asked.start()
    server.close()   # a task waiting when the driver stops, or asking after, never runs its job
    asked.join()
    assert waiting == [False]
    assert not ray_gate.may_run(path, 4)
    assert not ray_gate.may_run(str(tmp_path / "nothing-listens"), 5)


class _FakeRay:
    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def cancel(self, ref) -> None:
        self.cancelled.append(ref)


@pytest.fixture
def ahead():
    keeper = Ahead(_FakeRay(), limit=4)
    yield keeper
    keeper.close()


def _hand_over(ahead: Ahead, started, named) -> list[str]:
    ahead.name(started.id, named)
    assert ahead.adopt(started, 1, set()) is None
    handed = []
    for job, token in ahead.to_hand_over():
        ahead.handed(job, f"ref-{job.id}", token)
        handed.append(job.id)
    return handed


def test_jobs_named_next_are_handed_over_once_and_adopted_in_order(tmp_path, ahead) -> None:
    a, b, c, d = (make_job(tmp_path, name) for name in "abcd")
    big = make_job(tmp_path, "big", resources=Resources(cpus=2))
    assert _hand_over(ahead, a, [b, c, big]) == ["b", "c"]  # only plain jobs: Ray's slots gate them alike
    ahead.name(b.id, [c, d])
    assert ahead.adopt(b, 1, set()) == "ref-b"
    ahead.open("ref-b")
    assert [job.id for job, _ in ahead.to_hand_over()] == ["d"]  # c is queued already
    assert ahead._ray.cancelled == []


def test_starting_a_job_behind_others_drops_them_and_one_not_handed_over_drops_all(tmp_path, ahead) -> None:
    a, b, c, d, e = (make_job(tmp_path, name) for name in "abcde")
    assert _hand_over(ahead, a, [b, c, d]) == ["b", "c", "d"]
    assert ahead.adopt(c, 1, set()) == "ref-c"        # Ray would run b first: b is dropped
    assert ahead._ray.cancelled == ["ref-b"]
    assert ahead.settle("ref-b") is True               # a dropped task's end is nobody's outcome
    assert ahead.settle("ref-c") is False              # an adopted one is settled by the backend
    assert ahead.adopt(e, 1, set()) is None            # e was not handed over: d is dropped too
    assert ahead._ray.cancelled == ["ref-b", "ref-d"]
    assert ahead.adopt(d, 1, set()) is None            # and started anew when its turn comes


def test_a_retry_or_a_task_that_ended_unadopted_is_not_adopted(tmp_path, ahead) -> None:
    a, b, c = (make_job(tmp_path, name) for name in "abc")
    _hand_over(ahead, a, [b, c])
    assert ahead.adopt(b, 2, set()) is None            # handed over as attempt 1
    _hand_over(ahead, a, [b, c])
    assert ahead.adopt(b, 1, {"ref-b"}) is None        # lost before it started


def test_closing_drops_every_task_not_adopted(tmp_path) -> None:
    fake = _FakeRay()
    keeper = Ahead(fake, limit=4)
    a, b = make_job(tmp_path, "a"), make_job(tmp_path, "b")
    _hand_over(keeper, a, [b])
    path = keeper.gate.path
    keeper.close()
    assert fake.cancelled == ["ref-b"]
    assert not ray_gate.may_run(path, 1)


def test_the_backend_hands_over_ahead_only_on_a_ray_this_process_started() -> None:
    from hypermetric.execution.ray_cluster import started_here

    node = SimpleNamespace(ray_init_cluster=True, head=True)
    ours = SimpleNamespace(_private=SimpleNamespace(worker=SimpleNamespace(_global_node=node)))
    joined = SimpleNamespace(_private=SimpleNamespace(worker=SimpleNamespace(
        _global_node=SimpleNamespace(ray_init_cluster=False, head=False))))
    assert started_here(ours)
    assert not started_here(joined)
    assert not started_here(SimpleNamespace())


def test_after_ctrl_c_nothing_is_handed_over_and_the_queued_tasks_are_dropped(tmp_path, ahead) -> None:
    a, b, c, d = (make_job(tmp_path, name) for name in "abcd")
    _hand_over(ahead, a, [b])
    ahead.name(c.id, [d])
    assert ahead.adopt(c, 1, set()) is None      # the interrupt lands after this start, before the hand-over
    ahead.stop()
    assert ahead.to_hand_over() == []
    assert ahead._ray.cancelled == ["ref-b"]
