"""The ready queue: order, slots, resources, fail-stop, keep-going, retries and ephemeral jobs."""

from __future__ import annotations

from jobs import make_graph, make_job

from hypermetric.execution.protocol import JobOutcome
from hypermetric.execution.scheduler import Scheduler, jobs_to_run
from hypermetric.plan.job import Resources
from hypermetric.store.status import JobStatus

ROOT = "/nonexistent-root"


def _never(job) -> bool:
    return False


def _ok(job_id: str) -> JobOutcome:
    return JobOutcome(job_id, JobStatus.SUCCESS)


def _fail(job_id: str) -> JobOutcome:
    return JobOutcome(job_id, JobStatus.FAILED, reason="exit code 1 ≠ 0")


def _ids(started) -> list[str]:
    return [job.id for job, _ in started]


def _diamond():
    a, b, c = make_job(ROOT, "a"), make_job(ROOT, "b", deps=["a"]), make_job(ROOT, "c", deps=["a"])
    d = make_job(ROOT, "d", deps=["b", "c"])
    return make_graph(ROOT, d, c, b, a)


def test_ready_jobs_start_in_id_order_within_slots() -> None:
    jobs = [make_job(ROOT, n) for n in "dcba"]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=2, complete=_never)
    assert _ids(sched.take()) == ["a", "b"]
    assert sched.take() == []
    sched.finish(_ok("b"))
    assert _ids(sched.take()) == ["c"]


def test_dependencies_gate_starts() -> None:
    sched = Scheduler(_diamond(), slots=4, complete=_never)
    assert _ids(sched.take()) == ["a"]
    sched.finish(_ok("a"))
    assert _ids(sched.take()) == ["b", "c"]
    sched.finish(_ok("c"))
    assert sched.take() == []
    sched.finish(_ok("b"))
    assert _ids(sched.take()) == ["d"]
    sched.finish(_ok("d"))
    assert sched.done


def test_complete_jobs_take_no_slot() -> None:
    sched = Scheduler(_diamond(), slots=1, complete=lambda job: job.id in {"a", "b"})
    assert sched.done_count == 2 and list(sched.state) == ["c", "d"]
    same = Scheduler(_diamond(), slots=1, not_done={"c", "d"})
    assert same.done_count == 2 and same.state == sched.state
    assert _ids(sched.take()) == _ids(same.take()) == ["c"]


def test_fail_stop_starts_nothing_new() -> None:
    jobs = [make_job(ROOT, "a"), make_job(ROOT, "b"), make_job(ROOT, "c"), make_job(ROOT, "d", deps=["a"])]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=2, complete=_never)
    sched.take()
    sched.finish(_fail("a"))
    assert sched.stopped and sched.take() == [] and not sched.done
    sched.finish(_ok("b"))
    assert sched.done
    assert sched.state == {"a": JobStatus.FAILED, "b": JobStatus.SUCCESS, "c": JobStatus.PENDING,
                           "d": JobStatus.PENDING}


def test_keep_going_skips_downstream_only() -> None:
    jobs = [make_job(ROOT, "a"), make_job(ROOT, "b", deps=["a"]), make_job(ROOT, "c", deps=["b"]),
            make_job(ROOT, "e")]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=1, keep_going=True, complete=_never)
    sched.take()
    step = sched.finish(_fail("a"))
    assert step.skipped == ["b", "c"] and not step.retry
    assert _ids(sched.take()) == ["e"]


def test_retries_requeue_the_job_with_the_next_attempt() -> None:
    sched = Scheduler(make_graph(ROOT, make_job(ROOT, "a")), retries=2, complete=_never)
    for attempt in (1, 2, 3):
        started = sched.take()
        assert [(j.id, n) for j, n in started] == [("a", attempt)]
        step = sched.finish(_fail("a"))
        assert step.retry == (attempt < 3)
    assert sched.state["a"] is JobStatus.FAILED and sched.done


def test_interrupted_outcome_stops_and_stays_pending() -> None:
    sched = Scheduler(make_graph(ROOT, make_job(ROOT, "a"), make_job(ROOT, "b")), complete=_never)
    sched.take()
    sched.finish(JobOutcome("a", JobStatus.PENDING, reason="interrupted"))
    assert sched.done and sched.state["a"] is JobStatus.PENDING


def test_gpu_counts_and_oversized_jobs_run_alone() -> None:
    gpu = Resources(gpus=1)
    jobs = [make_job(ROOT, "a", resources=gpu), make_job(ROOT, "b", resources=gpu), make_job(ROOT, "c")]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=3, gpus=lambda: 1, complete=_never)
    assert _ids(sched.take()) == ["a", "c"]
    sched.finish(_ok("a"))
    assert _ids(sched.take()) == ["b"]


def test_job_bigger_than_capacity_waits_for_an_empty_machine() -> None:
    jobs = [make_job(ROOT, "a"), make_job(ROOT, "b", resources=Resources(cpus=8)), make_job(ROOT, "c")]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=2, complete=_never)
    assert _ids(sched.take()) == ["a"]
    sched.finish(_ok("a"))
    assert _ids(sched.take()) == ["b"]
    assert sched.take() == []
    sched.finish(_ok("b"))
    assert _ids(sched.take()) == ["c"]


def test_gpu_capacity_is_asked_only_when_needed() -> None:
    asked: list[int] = []
    sched = Scheduler(make_graph(ROOT, make_job(ROOT, "a"), make_job(ROOT, "b")), slots=2,
                      gpus=lambda: asked.append(1) or 0, complete=_never)
    sched.take()
    assert asked == []


def test_ephemeral_jobs_run_only_when_needed() -> None:
    e = make_job(ROOT, "e", ephemeral=True)
    t = make_job(ROOT, "t", deps=["e"])
    graph = make_graph(ROOT, e, t)
    assert jobs_to_run(graph, {"e", "t"}) == {"e", "t"}
    assert jobs_to_run(graph, {"e"}) == set()
    f = make_job(ROOT, "f", deps=["e"], ephemeral=True)
    chain = make_graph(ROOT, e, f, make_job(ROOT, "u", deps=["f"]))
    assert jobs_to_run(chain, {"e", "f", "u"}) == {"e", "f", "u"}
    assert jobs_to_run(chain, {"e", "u"}) == {"u"}


def test_service_stop_runs_when_a_user_runs() -> None:
    start = make_job(ROOT, "s.start", ephemeral=True)
    user = make_job(ROOT, "u", deps=["s/start"])
    stop = make_job(ROOT, "s.stop", deps=["s/start", "u"], ephemeral=True)
    graph = make_graph(ROOT, start, user, stop, targets=["u"])
    assert jobs_to_run(graph, {"s/start", "u", "s/stop"}) == {"s/start", "u", "s/stop"}
    assert jobs_to_run(graph, {"s/start", "s/stop"}) == set()


def test_ephemeral_target_runs() -> None:
    graph = make_graph(ROOT, make_job(ROOT, "e", ephemeral=True))
    assert jobs_to_run(graph, {"e"}) == {"e"}


def test_a_job_found_done_cuts_the_way_from_a_failure() -> None:
    # `c` needs `b`, found done (with --ignore-changes, though `a` below it runs again): it does not wait for
    # `a`, and a failure of `a` does not skip it. Only the jobs of the run are followed.
    jobs = [make_job(ROOT, "a"), make_job(ROOT, "b", deps=["a"]), make_job(ROOT, "c", deps=["b"])]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=1, keep_going=True, not_done={"a", "c"})
    assert sched.done_count == 1 and _ids(sched.take()) == ["a"]
    assert sched.finish(_fail("a")).skipped == []
    assert _ids(sched.take()) == ["c"]


def test_the_jobs_waiting_for_a_slot_are_the_next_ones_take_starts() -> None:
    """`waiting` names, in order, the ready jobs the next `take` calls would start (at most a slot's worth
    each), so a backend preparing them ahead prepares the right ones."""
    jobs = [make_job(ROOT, f"t{i:02d}") for i in range(23)]
    sched = Scheduler(make_graph(ROOT, *reversed(jobs)), slots=3, complete=_never)
    assert sched.waiting() == jobs[:3]  # nothing runs yet: the ones about to start
    started = _ids(sched.take())
    upcoming = [job.id for job in sched.waiting()]
    assert started == ["t00", "t01", "t02"] and upcoming == ["t03", "t04", "t05"]
    while upcoming:
        sched.finish(_ok(started.pop(0)))
        now = _ids(sched.take())
        assert now == upcoming[:1]
        started += now
        upcoming = [job.id for job in sched.waiting()]
        assert upcoming == [job.id for job in jobs if job.id not in started and
                            sched.state[job.id] is JobStatus.PENDING][:3]


def test_no_job_waits_for_a_slot_once_the_run_stops() -> None:
    jobs = [make_job(ROOT, f"t{i}") for i in range(4)]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=1, complete=_never)
    sched.take()
    assert [job.id for job in sched.waiting()] == ["t1"]
    sched.finish(_fail("t0"))  # fail-stop
    assert sched.waiting() == [] and sched.take() == []
