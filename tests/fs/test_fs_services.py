"""Services: `start` once before the jobs that use them, `stop` after them whether they fail or not."""

from __future__ import annotations

from hypermetric.execution.protocol import JobOutcome
from hypermetric.execution.scheduler import Scheduler
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.store.status import JobStatus


def _job(name: str, deps: tuple[str, ...] = (), after: tuple[str, ...] = (), ephemeral: bool = False) -> Job:
    return Job(id=name, name=name, case=(), full_case=(), relpath=f"{name}/default",
               workdir=f"/nonexistent/{name}", script="", variables=(), outputs=(), deps=deps, after=after,
               ephemeral=ephemeral)


def _service_graph() -> JobGraph:
    jobs = [_job("s/start", ephemeral=True), _job("a", ("s/start",)), _job("b", ("s/start",)),
            _job("c", ("a",)), _job("s/stop", ("a", "b", "c", "s/start"), ("a", "b", "c"), ephemeral=True)]
    return JobGraph({j.id: j for j in jobs}, targets=["b", "c"])


def _scheduler(**kw) -> Scheduler:
    return Scheduler(_service_graph(), complete=lambda job: False, **kw)


def _ids(started) -> list[str]:
    return [job.id for job, _ in started]


def _finish(sched: Scheduler, job_id: str, ok: bool = True) -> None:
    status = JobStatus.SUCCESS if ok else JobStatus.FAILED
    sched.finish(JobOutcome(job_id, status, reason=None if ok else "exit code 1 ≠ 0"))


def test_stop_runs_after_every_user_has_succeeded() -> None:
    sched = _scheduler(slots=4)
    assert _ids(sched.take()) == ["s/start"]
    _finish(sched, "s/start")
    assert _ids(sched.take()) == ["a", "b"]
    _finish(sched, "a")
    assert _ids(sched.take()) == ["c"]
    _finish(sched, "b")
    assert sched.take() == []
    _finish(sched, "c")
    assert _ids(sched.take()) == ["s/stop"]
    _finish(sched, "s/stop")
    assert sched.done


def test_stop_runs_after_a_failure_without_keep_going() -> None:
    sched = _scheduler(slots=4)
    sched.take()
    _finish(sched, "s/start")
    sched.take()
    _finish(sched, "a", ok=False)
    assert sched.take() == [] and not sched.done  # `b` still runs
    _finish(sched, "b")
    assert _ids(sched.take()) == ["s/stop"]
    _finish(sched, "s/stop")
    assert sched.done and sched.state["c"] is JobStatus.PENDING and sched.state["s/stop"] is JobStatus.SUCCESS


def test_stop_is_not_skipped_downstream_of_a_failed_user() -> None:
    sched = _scheduler(slots=1, keep_going=True)
    assert _ids(sched.take()) == ["s/start"]
    _finish(sched, "s/start")
    assert _ids(sched.take()) == ["a"]
    sched.finish(JobOutcome("a", JobStatus.FAILED, reason="exit code 1 ≠ 0"))
    assert sched.state["c"] is JobStatus.SKIPPED and sched.state["s/stop"] is JobStatus.PENDING
    assert _ids(sched.take()) == ["b"]
    _finish(sched, "b")
    assert _ids(sched.take()) == ["s/stop"]


def test_stop_is_skipped_when_start_fails() -> None:
    sched = _scheduler(slots=2, keep_going=True)
    sched.take()
    step = sched.finish(JobOutcome("s/start", JobStatus.FAILED, reason="exit code 1 ≠ 0"))
    assert "s/stop" in step.skipped and sched.take() == [] and sched.done


SERVICE = """
object svc:
  root = "{root}/svc"
  ephemeral task start -> sock:
    echo start >> {root}/events
    touch "$sock"
  ephemeral task stop(sock=$start.sock):
    echo stop >> {root}/events
  def mkdir(dir):
    mkdir -p "$root/$dir"
  def exists(file):
    test -e "$root/$file"
task a -> o@svc:
  sleep 0.2
  echo a > "$o"
task b -> o@svc:
  echo b > "$o"
task bad -> o@svc:
  exit 1
"""


def test_a_service_starts_once_per_run_and_stops_after(project):
    project.write("main.hm", SERVICE.format(root=project.root))
    project.run("run", "a", "b", "-j2").ok()
    assert project.read("events") == "start\nstop\n"
    assert project.read("svc/a/default/o") == "a\n" and project.read("svc/b/default/o") == "b\n"
    assert not project.path("out/svc/start/default").exists()  # ephemeral: removed after the run
    project.run("run", "a", "b").ok()
    assert project.read("events") == "start\nstop\n"  # nothing to do: the service is not started


def test_a_service_stops_even_when_a_job_fails(project):
    project.write("main.hm", SERVICE.format(root=project.root))
    result = project.run("run", "bad", "b")
    assert result.code == 1 and "svc.stop[default]: SUCCESS" in result.out
    assert project.read("events") == "start\nstop\n"
    result = project.run("run", "bad", "a", "-k", "-j2")
    assert result.code == 1 and project.read("events") == "start\nstop\n" * 2
