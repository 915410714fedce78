"""The process side of faults, in-process: what a job leaves running, jobs that ignore SIGTERM, the lock a
job's processes inherit, a runner killed between a spawn and its registration, a directory removed
meanwhile, an OS error inside a Ray job, and the exit code of a run stopped by SIGTERM or SIGHUP."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from jobs import make_graph, make_job, read

from hypermetric.execution.local import LocalBackend
from hypermetric.execution.protocol import JobOptions, execute_job
from hypermetric.execution.report import RunReport
from hypermetric.store import lock, mutations
from hypermetric.store.status import JobStatus, is_complete

TIMEOUT = 60.0
HERE = os.path.dirname(os.path.abspath(__file__))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(path: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while not (os.path.exists(path) and read(path).strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return read(path)


# The runner's side of the next two tests: whatever it spawns, it writes down the child's pid and stops
# before registering the child with its watchdog, never to go on, as a runner killed at that moment would.
# The SIGSTOP goes to the calling thread itself: sent to the process, it may be taken by another thread, and
# this one would run on for a moment. The wait after it holds the thread should anything continue the process.
_STOP_BEFORE_REGISTERING = """
import os, signal, sys, threading
sys.path.insert(0, sys.argv[1])
pid_file = sys.argv[2]

def stop_before_registering(*args):
    proc = args[-1]
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(proc.pid))
    os.rename(pid_file + ".tmp", pid_file)
    signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)
    threading.Event().wait()
"""

_LOCAL_RUNNER = _STOP_BEFORE_REGISTERING + """
from jobs import make_job
from hypermetric.execution import watchdog
from hypermetric.execution.local import LocalBackend

watchdog.Guard.on_spawn = stop_before_registering
backend = LocalBackend(1, shell=tuple(sys.argv[4:]))
backend.start(make_job(sys.argv[3], "t", 'touch ../ran; sleep 1000'), 1)
backend.wait_any()
"""

_FUNCTION_CALLER = _STOP_BEFORE_REGISTERING + """
from hypermetric.plan.job import ShellFunction
from hypermetric.store.fscall import call_function

body = ShellFunction("execute", ("marker",), 'touch "$marker"; sleep 1000')
call_function("fs", body, [sys.argv[3]], shell=sys.argv[4:], on_spawn=stop_before_registering)
"""


def _kill_runner_before_registration(runner: str, arg: str, shell: list[str], tmp_path) -> tuple[int, int]:
    """Start `runner`, wait until it has spawned a child and stopped before registering it, SIGKILL it; the
    child's pid and a pidfd of it (which, unlike a pid, no other process can take over once the child has
    ended)."""
    pid_file = os.path.join(tmp_path, "pid")
    proc = subprocess.Popen([sys.executable, "-c", runner, HERE, pid_file, arg, *shell])
    try:
        child = int(_wait_for(pid_file))
        pidfd = os.pidfd_open(child)  # the child cannot have ended: its runner has not let it go yet
    finally:
        proc.kill()
        proc.wait(TIMEOUT)
    return child, pidfd


def _wait_exit(child: tuple[int, int]) -> None:
    """Wait until the `(pid, pidfd)` child has ended; if it does not, kill its process group (its pid is
    still its own while it lives) and fail."""
    pid, pidfd = child
    try:
        ready, _, _ = select.select([pidfd], [], [], TIMEOUT)
        if not ready:
            os.killpg(pid, signal.SIGKILL)
            raise AssertionError("the child outlived its runner")
    finally:
        os.close(pidfd)


@pytest.mark.parametrize("shell", [["bash", "-e"], ["sh", "-e"]], ids=["bash-env-gate", "exec-gate"])
def test_a_runner_killed_between_spawn_and_registration_never_runs_the_script(tmp_path, shell) -> None:
    _wait_exit(_kill_runner_before_registration(_LOCAL_RUNNER, str(tmp_path), shell, tmp_path))
    assert not os.path.exists(os.path.join(tmp_path, "t", "ran"))
    job = make_job(tmp_path, "t", 'touch "$o"')
    assert execute_job(job).status is JobStatus.SUCCESS  # and it left the lock free


def test_a_function_call_whose_caller_dies_before_registering_it_never_runs(tmp_path) -> None:
    """File systems' `execute`, runners' `submit` and transfers all go through `call_function`."""
    marker = os.path.join(tmp_path, "ran")
    _wait_exit(_kill_runner_before_registration(_FUNCTION_CALLER, marker, ["bash", "-e"], tmp_path))
    assert not os.path.exists(marker)


def test_an_os_error_inside_a_ray_job_is_the_environments_fault_not_a_bug(tmp_path, monkeypatch) -> None:
    from hypermetric.execution import ray_task

    monkeypatch.setattr(ray_task, "node_id", lambda: "n1")  # no Ray here: the worker's side alone
    monkeypatch.setattr(ray_task, "_watchdog", None)
    monkeypatch.setenv("HYPERMETRIC_PYTHON", sys.executable)
    (tmp_path / "file").write_text("")
    job = make_job(tmp_path / "file", "t", 'touch "$o"')  # its directory would lie inside a regular file
    try:
        outcome = ray_task.run_on_worker(job, JobOptions(), 1)
    finally:
        if ray_task._watchdog is not None:
            ray_task._watchdog.close()
    assert outcome.status is JobStatus.FAILED
    assert "internal error" not in outcome.reason and "is not a directory" in outcome.reason, outcome.reason


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_library_run_stopped_by_sigterm_or_sighup_exits_with_that_signals_code(tmp_path, sig, code) -> None:
    from hypermetric.execution.engine import RunOptions, run_graph
    from hypermetric.execution.interrupts import interrupts

    # the job signals this process (its parent), as `kill` or a closing terminal would
    job = make_job(tmp_path, "t", f'echo $$ > ../pid; kill -{sig.name[3:]} $PPID; sleep 1000; touch "$o"')
    with interrupts():
        report = run_graph(make_graph(tmp_path, job), RunOptions(backend="local", record=False, grace=0.5))
    assert report.interrupted and report.signum == sig and report.exit_code == code
    assert not _alive(int(read(os.path.join(tmp_path, "t", "pid"))))
    assert not is_complete(job)
    assert RunReport(interrupted=True).exit_code == 130  # Ctrl-C, or an interrupt that names no signal


@pytest.mark.parametrize("streamed", [False, True])
def test_what_the_script_left_in_its_group_is_killed_before_the_job_is_judged(tmp_path, streamed) -> None:
    job = make_job(tmp_path, "t", 'sleep 1000 & echo $! > ../bg; echo early > "$o"')
    on_output = (lambda *_: None) if streamed else None
    outcome = execute_job(job, JobOptions(), on_output)
    assert outcome.status is JobStatus.SUCCESS
    assert not _alive(int(read(os.path.join(tmp_path, "t", "bg"))))


def test_the_script_inherits_the_lock(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'ls -l /proc/$$/fd > ../fds; touch "$o"')
    assert execute_job(job).status is JobStatus.SUCCESS
    assert os.path.join(job.workdir, ".lock") in read(os.path.join(tmp_path, "t", "fds"))


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_and_is_not_done(tmp_path) -> None:
    job = make_job(tmp_path, "t", "trap '' TERM; echo $$ > ../pid; while true; do sleep 0.05; done")
    backend = LocalBackend(1, grace=0.3)
    try:
        backend.start(job, 1)
        pid = int(_wait_for(os.path.join(tmp_path, "t", "pid")))
        backend.cancel_all()
        outcomes = []
        deadline = time.monotonic() + TIMEOUT
        while not outcomes and time.monotonic() < deadline:
            outcomes = backend.wait_any(0.1)
    finally:
        backend.close()
    assert [o.status for o in outcomes] == [JobStatus.PENDING]
    assert not _alive(pid)
    assert not os.path.exists(os.path.join(job.workdir, "exitcode"))


def test_a_job_cancelled_after_its_script_succeeded_is_not_done(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    calls = iter([False, True])  # not cancelled when it starts, cancelled by the time it has ended
    from hypermetric.execution.protocol import JobHooks

    outcome = execute_job(job, hooks=JobHooks(cancelled=lambda: next(calls, True)))
    assert outcome.status is JobStatus.PENDING
    assert not is_complete(job)


def test_remove_waits_for_the_holder_of_the_lock(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    code = ("import sys, time; from hypermetric.store import lock; h = lock.acquire(sys.argv[1]); "
            "print('held', flush=True); sys.stdin.readline(); lock.release(h)")
    holder = subprocess.Popen([sys.executable, "-c", code, lock.lock_path(job)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    messages: list[str] = []

    def waiting(message: str) -> None:
        messages.append(message)
        assert os.path.isdir(job.workdir)  # nothing removed while the lock is held
        holder.stdin.write("go\n")
        holder.stdin.flush()

    try:
        assert holder.stdout.readline().strip() == "held"
        assert mutations.remove(job, on_wait=waiting)
    finally:
        holder.stdin.close()
        holder.wait(TIMEOUT)
    assert messages and not os.path.exists(job.workdir)


def test_a_run_waiting_for_a_removed_directory_makes_it_again(tmp_path) -> None:
    path = os.path.join(tmp_path, "gone", ".lock")
    with pytest.raises(FileNotFoundError):
        lock.acquire(path)
    held = lock.acquire(path, make_dir=True)
    lock.release(held)
    assert os.path.isdir(os.path.dirname(path))


def test_unlock_refuses_a_lock_that_is_held(tmp_path) -> None:
    from hypermetric.errors import StoreError

    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    held = lock.acquire(lock.lock_path(job))
    try:
        with pytest.raises(StoreError, match="is running"):
            lock.unlock(job)
        assert os.path.exists(lock.lock_path(job))
    finally:
        lock.release(held)
