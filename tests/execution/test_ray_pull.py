"""Jobs that share runners (`ray_pull.Dispatcher`, `ray_runner.serve_jobs`), without Ray, over a Unix socket
(a Ray the driver started) and over TCP (a cluster it joined). The runners are threads (`pull_runners`)."""

from __future__ import annotations

import os
import queue
import threading
from functools import partial

import pytest
from support.pull_runners import connected, dies_with_its_job, made_runners, stays_after_its_job
from support.waiting import BOUND

from hypermetric.execution.ray_pull import RunnerLost
from hypermetric.execution.ray_runner import JOB, STOP


@pytest.fixture(params=["unix", "tcp"])
def make(request):
    yield from made_runners(None if request.param == "unix" else "127.0.0.1")


def test_one_runner_runs_the_jobs_put_at_once_in_order(make) -> None:
    runners = make(limit=1)
    runners.put("a", "b", "c")
    runners.start_next()
    assert [runners.end() for _ in range(3)] == [("a", b"done:a", None), ("b", b"done:b", None),
                                                 ("c", b"done:c", None)]
    assert runners.ran == [(1, b"a"), (1, b"b"), (1, b"c")]
    assert runners.asked == [1]


def test_no_more_runners_are_asked_for_than_the_limit(make) -> None:
    runners = make(limit=2)
    runners.put("a", "b", "c", "d", "e")
    assert runners.asked == [1, 2]
    runners.start_next()
    runners.start_next()
    ends = sorted(runners.end() for _ in range(5))
    assert ends == [(key, b"done:" + key.encode(), None) for key in "abcde"]
    # Each runner is idle with its last end taken, or finds no job left when it connects: both stop.
    runners.dispatcher.between_batches(5)
    assert runners.stopped(1) and runners.stopped(2)
    assert runners.asked == [1, 2]


def test_a_runner_is_asked_for_only_for_a_job_no_runner_is_on_its_way_for(make) -> None:
    runners = make(limit=5)
    runners.put("a")
    runners.put("b")
    assert runners.asked == [1, 2]
    runners.start_next()
    runners.start_next()
    assert sorted([runners.end(), runners.end()]) == [("a", b"done:a", None), ("b", b"done:b", None)]
    runners.dispatcher.between_batches(2)
    assert runners.stopped(1) and runners.stopped(2) and runners.asked == [1, 2]


def test_a_runner_with_nothing_to_run_stops_once_its_end_is_taken(make) -> None:
    runners = make(limit=1)
    runners.put("a")
    runners.start_next()
    assert runners.end() == ("a", b"done:a", None)
    # Its end (the first told) is not taken yet: the driver may still start a job it lets start.
    runners.dispatcher.between_batches(0)
    runners.put("b")
    assert runners.end() == ("b", b"done:b", None)
    assert runners.ran == [(1, b"a"), (1, b"b")] and runners.asked == [1]
    runners.dispatcher.between_batches(2)
    assert runners.stopped(1)
    runners.put("c")
    assert runners.asked == [1, 2]
    runners.start_next()
    assert runners.end() == ("c", b"done:c", None)
    assert runners.ran[-1] == (2, b"c")


def test_a_runner_that_finds_no_job_left_is_told_to_stop_at_once(make) -> None:
    runners = make(limit=2)
    release = runners.hold_a()
    runners.put("b")
    assert runners.asked == [1, 2]
    release.set()
    assert [runners.end(), runners.end()] == [("a", b"done:a", None), ("b", b"done:b", None)]
    runners.start_next()  # runner 2, asked for "b", which runner 1 took on ending "a"
    assert runners.stopped(2)
    assert runners.ran == [(1, b"a"), (1, b"b")]


def test_a_job_whose_runner_dies_runs_again_on_a_new_runner(make) -> None:
    runners, seen = make(limit=1, retries=1), queue.Queue()
    runners.put("a", "b")
    runners.start_next(partial(dies_with_its_job, seen))
    assert seen.get(timeout=BOUND) == JOB + b"a"
    runners.start_next()  # asked for by the dispatcher itself, once it saw the connection end
    assert [runners.end(), runners.end()] == [("a", b"done:a", None), ("b", b"done:b", None)]
    runners.close()
    assert runners.ends.empty() and runners.asked == [1, 2]
    assert runners.ran == [(2, b"a"), (2, b"b")]  # the job lost goes back to the front of the queue


def test_a_job_whose_runner_dies_past_its_retries_ends_lost(make) -> None:
    runners, seen = make(limit=1, retries=1), queue.Queue()
    runners.put("a")
    runners.start_next(partial(dies_with_its_job, seen))
    runners.start_next(partial(dies_with_its_job, seen))
    key, data, error = runners.end()
    assert (key, data) == ("a", None) and isinstance(error, RunnerLost)
    assert str(error) == "the Ray worker running the job died (2 times)"
    assert [seen.get(timeout=BOUND), seen.get(timeout=BOUND)] == [JOB + b"a", JOB + b"a"]
    runners.close()
    assert runners.asked == [1, 2] and runners.ends.empty()


def test_without_retries_a_job_whose_runner_dies_ends_lost(make) -> None:
    runners, seen = make(limit=1, retries=0), queue.Queue()
    runners.put("a")
    runners.start_next(partial(dies_with_its_job, seen))
    key, data, error = runners.end()
    assert (key, data) == ("a", None) and isinstance(error, RunnerLost)
    assert "the Ray worker running the job died" in str(error)
    runners.close()
    assert runners.asked == [1]


@pytest.mark.parametrize(("error", "why"), [(ValueError("boom"), "ValueError: boom"), (None, "it ended at once")])
def test_a_runner_that_never_connects_fails_the_oldest_queued_job(make, error, why) -> None:
    runners = make(limit=1)
    runners.put("a", "b")
    assert runners.dispatcher.refs() == [("ref", 1)]
    runners.dispatcher.runner_ended(1, error)
    key, data, lost = runners.end()
    assert (key, data) == ("a", None) and isinstance(lost, RunnerLost)
    assert str(lost) == f"the Ray task that was to run the job failed ({why})"
    # Ray's callback thread must not ask Ray for a runner: the next batch does.
    assert runners.asked == [1] and runners.dispatcher.refs() == []
    runners.dispatcher.between_batches(1)
    assert runners.asked == [1, 2]
    runners.start(2)
    assert runners.end() == ("b", b"done:b", None)
    assert runners.ran == [(2, b"b")]


def test_cancel_ends_the_queued_jobs_and_asks_for_no_more_runners(make) -> None:
    runners = make(limit=3)
    release = runners.hold_a()
    runners.put("b", "c")
    assert runners.asked == [1, 2, 3]
    runners.dispatcher.cancel()
    lost = [runners.ends.get_nowait(), runners.ends.get_nowait()]  # told before cancel returns
    assert [(key, data) for key, data, _ in lost] == [("b", None), ("c", None)]
    assert all(isinstance(error, RunnerLost) and str(error) == "interrupted" for _, _, error in lost)
    runners.start_next()  # runners asked for before the cancel find nothing to run
    runners.start_next()
    assert runners.stopped(2) and runners.stopped(3)
    runners.put("d")  # without the cancel, this would ask for runner 4; it ends at once instead
    key, data, error = runners.ends.get_nowait()
    assert (key, data, str(error)) == ("d", None, "interrupted")
    runners.dispatcher.between_batches(10)
    assert runners.asked == [1, 2, 3]
    release.set()
    assert runners.end() == ("a", b"done:a", None)
    assert runners.stopped(1)  # the run is over: it is not kept for another job
    assert runners.ran == [(1, b"a")]


def test_close_stops_idle_runners_and_removes_the_socket(make) -> None:
    others = set(threading.enumerate())
    runners, heard = make(limit=2), queue.Queue()
    release = runners.hold_a()
    runners.put("b")
    runners.start_next(partial(stays_after_its_job, heard))
    assert runners.end() == ("b", b"done:b", None)
    release.set()
    assert runners.end() == ("a", b"done:a", None)
    address = runners.dispatcher.address
    runners.close()
    assert runners.stopped(1) and runners.stopped(2)
    assert heard.get_nowait() == STOP  # told, not merely cut off
    if isinstance(address, str):
        assert not os.path.exists(os.path.dirname(address))
    with pytest.raises((ConnectionRefusedError, FileNotFoundError)):   # nothing listens any more
        connected(address)
    assert not [t for t in set(threading.enumerate()) - others if t.name == "hypermetric-ray-runners"]
