"""Who may run the dispatcher's jobs, and what happens when runners cannot reach it: a connection without the
run's token gets no job, runners that cannot connect hand every job to the fallback (a Ray task each), and
closing hands back the runners Ray has not started, for the backend to cancel; a limit raised (a joined
cluster that grew) asks for more runners."""

from __future__ import annotations

import pytest
from support.pull_runners import connected, made_runners
from support.waiting import BOUND

from hypermetric.execution.ray_runner import LENGTH, frame, hello


@pytest.fixture(params=["unix", "tcp"])
def make(request):
    yield from made_runners(None if request.param == "unix" else "127.0.0.1")


def _dropped(conn) -> bool:
    """Whether the dispatcher closed `conn` without sending it anything."""
    conn.settimeout(BOUND)   # reached only by a test that fails
    return conn.recv(64) == b""


@pytest.mark.parametrize("sent", [
    frame(hello(b"x" * 16, 1)),                       # a hello with another token
    frame(b"E" + b"done:a"),                          # an end before any hello
    LENGTH.pack(1 << 30) + b"y" * 64,                 # more than a hello, never a whole frame
], ids=["wrong-token", "no-hello", "too-long"])
def test_a_connection_without_the_runs_token_is_dropped_and_gets_no_job(make, sent) -> None:
    runners = make(limit=1)
    runners.put("a")
    with connected(runners.dispatcher.address) as stranger:
        stranger.sendall(sent)
        assert _dropped(stranger)
    runners.start_next()   # the runner asked for still gets the job
    assert runners.end() == ("a", b"done:a", None)
    assert runners.ran == [(1, b"a")]


def test_runners_that_cannot_reach_the_driver_hand_every_job_to_the_fallback(make) -> None:
    runners = make(limit=2)
    runners.put("a", "b")
    assert runners.asked == [1, 2]
    assert runners.dispatcher.runner_ended(1, None, "ConnectionRefusedError: refused") is True
    assert runners.dispatcher.unreachable == "ConnectionRefusedError: refused"
    # Ray's callback thread must not ask Ray for tasks: the queued jobs move at the next put or batch, in order.
    assert runners.fallen.empty()
    runners.put("c")
    assert [runners.fallen.get_nowait() for _ in range(3)] == [("a", b"a"), ("b", b"b"), ("c", b"c")]
    runners.dispatcher.between_batches(0)
    runners.put("d")   # from now on at once, and no runner is asked for
    assert runners.fallen.get_nowait() == ("d", b"d") and runners.fallen.empty()
    assert runners.asked == [1, 2] and runners.ends.empty()
    assert runners.dispatcher.runner_ended(2, None, "TimeoutError: timed out") is False   # told once
    assert runners.dispatcher.unreachable == "ConnectionRefusedError: refused"


def test_a_runner_that_reaches_the_driver_after_another_could_not_is_told_to_stop(make) -> None:
    runners = make(limit=2)
    runners.put("a", "b")
    runners.dispatcher.runner_ended(1, None, "ConnectionRefusedError: refused")
    runners.dispatcher.between_batches(0)   # the jobs queued go to the fallback here
    runners.start(2)   # its job went to the fallback: nothing is left for it
    assert runners.stopped(2)
    assert runners.ran == [] and runners.fallen.qsize() == 2


def test_a_runner_that_fails_is_not_taken_for_one_that_cannot_reach(make) -> None:
    runners = make(limit=1)
    runners.put("a")
    assert runners.dispatcher.runner_ended(1, ValueError("boom"), None) is False
    key, data, error = runners.end()
    assert (key, data) == ("a", None) and "ValueError: boom" in str(error)
    assert runners.dispatcher.unreachable is None and runners.fallen.empty()


def test_close_hands_back_the_runners_ray_has_not_started(make) -> None:
    runners = make(limit=2)
    runners.put("a", "b")
    runners.start_next()   # runner 1 runs both; runner 2 never starts
    assert [runners.end(), runners.end()] == [("a", b"done:a", None), ("b", b"done:b", None)]
    assert runners.dispatcher.close() == [("ref", 2)]
    assert runners.stopped(1)
    assert runners.dispatcher.close() == []


def test_a_runner_that_starts_after_close_finds_no_driver_and_says_why(make) -> None:
    runners = make(limit=1)
    runners.put("a")
    assert runners.dispatcher.close() == [("ref", 1)]
    runners.start_next()
    assert runners.stopped(1)
    why = runners.returned.get(timeout=BOUND)
    assert why is not None and why.startswith(("ConnectionRefusedError", "FileNotFoundError")), why


def test_a_raised_limit_asks_for_the_runners_queued_jobs_lack_at_the_next_batch(make) -> None:
    runners = make(limit=1)   # a joined cluster that gains a node: the backend raises the limit
    release = runners.hold_a()
    runners.put("b", "c")
    assert runners.asked == [1]
    runners.dispatcher.set_limit(3)
    runners.dispatcher.between_batches(0)
    assert runners.asked == [1, 2, 3]
    runners.start_next()
    runners.start_next()
    assert sorted([runners.end(), runners.end()]) == [("b", b"done:b", None), ("c", b"done:c", None)]
    release.set()
    assert runners.end() == ("a", b"done:a", None)
