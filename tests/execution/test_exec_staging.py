"""Job directories and script processes made ahead on a chain (`execution.staging`, `execution.ahead`).

Counted through Python's audit hooks, never timed: between one job's commit (its `exitcode`) and the start of
the job it held back, the runner makes no file, no directory and no process; the folder made ahead is used,
left alone or removed as `staging` says; a script started ahead runs exactly as one started at once.
"""

from __future__ import annotations

import os
import sys
import threading

import pytest
from jobs import consume, make_graph, make_job, read

from hypermetric.execution import staging
from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.hooks import JobHooks, JobOptions
from hypermetric.execution.local import LocalBackend
from hypermetric.execution.protocol import execute_job
from hypermetric.store import lock as store_lock
from hypermetric.store.status import JobStatus

_WATCHED = ("open", "os.mkdir", "os.rename", "os.symlink", "subprocess.Popen")
_events: list[tuple[str, tuple[object, ...]]] = []
_recording = threading.Event()


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recording.is_set() and event in _WATCHED:
        if event == "open" and not (isinstance(args[2], int) and args[2] & os.O_CREAT):
            return
        _events.append((event, args))


sys.addaudithook(_hook)  # it cannot be removed: it records only while `_recording` is set


def _chain(root, length: int, body: str = 'cat "$i" > "$o"; echo {n} >> "$o"'):
    jobs = [make_job(root, "c0", 'echo 0 > "$o"')]
    for n in range(1, length):
        jobs.append(consume(root, f"c{n}", body.format(n=n), jobs[-1]))
    return jobs


def _run(root, graph_jobs, **options):
    _events.clear()
    _recording.set()
    try:
        return run_graph(make_graph(root, *graph_jobs), RunOptions(**{"jobs": 2, "silent": True, **options}))
    finally:
        _recording.clear()


def _hidden(root) -> list[str]:
    return [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files
            if n.startswith(".") and ".runs" not in d and n != ".runs"]


@pytest.mark.parametrize("silent", [True, False], ids=["files", "streamed"])
def test_nothing_is_made_between_a_jobs_end_and_the_start_of_the_job_it_held_back(tmp_path, silent) -> None:
    jobs = _chain(tmp_path, 6)
    report = _run(tmp_path, jobs, silent=silent)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    assert read(os.path.join(jobs[-1].workdir, "o")).split() == [str(n) for n in range(len(jobs))]
    events = list(_events)
    for before, job in zip(jobs, jobs[1:]):
        commit = next(i for i, (e, a) in enumerate(events)  # `exitcode` made: the job before it is done
                      if e == "open" and a[0] == os.path.join(before.workdir, "exitcode"))
        claim = next(i for i, (e, a) in enumerate(events) if e == "os.rename" and a[1] == job.workdir)
        made = [(e, a[0] if e != "os.symlink" else a[1]) for e, a in events[commit + 1:claim]
                if e != "os.rename"]
        assert commit < claim and made == [], job.id
        # the script's process was started ahead, in the task's folder, while the job before it ran
        spawned = [i for i, (e, a) in enumerate(events)
                   if e == "subprocess.Popen" and a[2] == os.path.dirname(job.workdir)]
        assert len(spawned) == 1 and spawned[0] < commit, job.id
    assert _hidden(tmp_path) == []


def test_jobs_waiting_for_a_slot_are_made_ahead(tmp_path) -> None:
    """While every slot runs a job and the next one waits in the backend's queue, the runner prepares the job
    after it (folder, lock, files, its shell waiting behind its gate), so a job's end is followed at once by
    the next one's start. With one slot the order is fixed: each job's worker makes the folder of the job
    after the one queued behind it before its own job can end."""
    jobs = [make_job(tmp_path, "t", f'echo {i} > "$o"', case=[("I", str(i))]) for i in range(6)]
    report = _run(tmp_path, jobs, jobs=1)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    assert [read(os.path.join(job.workdir, "o")).strip() for job in jobs] == [str(i) for i in range(6)]
    made = [str(a[0]) for e, a in _events if e == "os.mkdir" and str(a[0]).startswith(str(tmp_path / "t") + os.sep)]
    assert {p for p in made if not p.endswith(".staged")} == {jobs[0].workdir, jobs[1].workdir}
    assert [p for p in made if p.endswith(".staged")] == [staging.staged_path(job.workdir) for job in jobs[2:]]
    for before, job in zip(jobs[1:], jobs[2:]):  # started behind its gate while the job before it ran
        commit = next(i for i, (e, a) in enumerate(_events)
                      if e == "open" and a[0] == os.path.join(before.workdir, "exitcode"))
        spawned = [i for i, (e, a) in enumerate(_events) if e == "subprocess.Popen" and
                   (a[3] or {}).get("HYPERMETRIC_GATE_CD") == os.path.realpath(job.workdir)]  # type: ignore[union-attr]
        assert len(spawned) == 1 and spawned[0] < commit, job.id
    assert _hidden(tmp_path) == []


def test_jobs_ending_out_of_order_still_each_run_once(tmp_path) -> None:
    jobs = [make_job(tmp_path, "t", f'echo {i} > "$o"; echo {i} >> ../../log', case=[("I", str(i))])
            for i in range(12)]
    report = _run(tmp_path, jobs, jobs=3)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    assert sorted(read(os.path.join(tmp_path, "log")).split(), key=int) == [str(i) for i in range(12)]
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("via_link", [False, True], ids=["plain", "root-under-a-link"])
def test_a_script_started_ahead_sees_what_a_script_started_at_once_sees(tmp_path, monkeypatch, via_link) -> None:
    monkeypatch.setenv("OLDPWD", str(tmp_path))
    if via_link:  # PWD is the physical path either way, as bash finds it
        os.mkdir(tmp_path / "real")
        os.symlink(tmp_path / "real", tmp_path / "link")
        tmp_path = tmp_path / "link"
    monkeypatch.setenv("HYPERMETRIC_GATE_CD", "/")  # from outside: ignored, never followed
    body = ('echo "$PWD|${{OLDPWD-unset}}|$(pwd)|${{BASH_ENV-unset}}|${{HYPERMETRIC_GATE_CD-unset}}|$-" > "$o"; '
            'env | grep -v "^_=\\|HYPERMAKE_JOB\\|^[io]=" | sort > env; echo {n} > n')
    jobs = [make_job(tmp_path, "c0", body.format(n=0))]
    jobs.append(consume(tmp_path, "c1", body.format(n=1), jobs[0]))  # started ahead, while c0 runs
    report = _run(tmp_path, jobs)
    assert report.exit_code == 0
    seen = [read(os.path.join(j.workdir, "o")).strip().split("|") for j in jobs]
    for job, (pwd, oldpwd, cwd, bash_env, gate_cd, flags) in zip(jobs, seen):
        assert pwd == cwd == os.path.realpath(job.workdir)
        assert (bash_env, gate_cd) == ("unset", "unset") and oldpwd == os.environ["OLDPWD"]
    assert seen[0][5] == seen[1][5]
    env = [read(os.path.join(j.workdir, "env")).replace(os.path.realpath(j.workdir), "WORKDIR") for j in jobs]
    assert env[0] == env[1] and "WORKDIR" in env[0]


def test_a_job_that_never_starts_leaves_no_folder_and_no_process(tmp_path) -> None:
    jobs = _chain(tmp_path, 3)
    jobs[0] = make_job(tmp_path, "c0", "exit 3")
    jobs[1] = consume(tmp_path, "c1", 'echo ran > "$o"', jobs[0])
    report = _run(tmp_path, jobs[:2])
    assert report.exit_code != 0 and report.results["c1"].status is JobStatus.PENDING
    started = [a for e, a in _events if e == "subprocess.Popen" and a[2] == os.path.dirname(jobs[1].workdir)]
    assert len(started) == 1  # started ahead, let go unopened: it ran nothing
    assert not os.path.exists(jobs[1].workdir)
    assert _hidden(tmp_path) == []


def test_a_job_waiting_for_a_slot_that_never_starts_leaves_no_folder_and_no_process(tmp_path) -> None:
    jobs = [make_job(tmp_path, "t", "exit 3" if i == 0 else f'echo ran > "$o"; echo {i} >> ../../ran',
                     case=[("I", str(i))]) for i in range(4)]
    report = _run(tmp_path, jobs, jobs=1)  # fail-stop after the first: the one made ahead never starts
    assert report.exit_code != 0 and report.results[jobs[2].id].status is JobStatus.PENDING
    started = [a for e, a in _events if e == "subprocess.Popen" and
               (a[3] or {}).get("HYPERMETRIC_GATE_CD") == os.path.realpath(jobs[2].workdir)]  # type: ignore[union-attr]
    assert len(started) == 1  # started ahead, let go unopened: it ran nothing
    assert not os.path.exists(os.path.join(tmp_path, "ran"))
    assert not any(os.path.exists(job.workdir) for job in jobs[1:])
    assert _hidden(tmp_path) == []


def test_a_job_directory_made_meanwhile_is_left_alone(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo new > "$o"')
    staged = staging.stage(job, "u")
    assert staged is not None and os.path.isdir(staging.staged_path(job.workdir))
    os.makedirs(job.workdir)
    with open(os.path.join(job.workdir, "keep"), "w") as f:
        f.write("x")
    outcome = execute_job(job, JobOptions(), hooks=JobHooks(claim=lambda j: staged))
    assert outcome.status is JobStatus.SUCCESS  # prepared the ordinary way: emptied, locked, run
    assert read(os.path.join(job.workdir, "o")) == "new\n"
    assert _hidden(tmp_path) == []


def _left_by_a_dead_runner(root):
    """A job, and the folder made ahead for it that a runner which died left (nobody holds its lock)."""
    job = make_job(root, "t", 'echo x > "$o"')
    path = staging.staged_path(job.workdir)
    os.makedirs(path)
    with open(os.path.join(path, "script"), "w") as f:
        f.write("echo stale\n")
    return job, path


def test_a_folder_left_by_a_dead_runner_is_replaced_and_a_locked_one_is_left_alone(tmp_path) -> None:
    job, path = _left_by_a_dead_runner(tmp_path)
    staged = staging.stage(job, "u")  # nobody holds its lock: left by a runner that died
    assert staged is not None and read(os.path.join(path, "script")) != "echo stale\n"
    assert staging.stage(job, "v") is None  # locked by a live owner (here: this one)
    other = make_job(tmp_path, "t", 'echo y > "$o"', case=[("I", "1")])
    os.makedirs(other.workdir)
    assert staging.stage(other, "w") is None  # a directory there (an outdated job's): nothing made ahead
    staging.discard(staged)
    assert not os.path.exists(path) and _hidden(tmp_path) == []
    held = store_lock.try_acquire(os.path.join(tmp_path, "probe"))
    assert held is not None  # nothing of the discarded folder's lock lingers
    store_lock.release(held)


def test_a_start_the_ordinary_way_deletes_a_dead_runners_folder_and_leaves_a_live_ones(tmp_path) -> None:
    dead, _ = _left_by_a_dead_runner(tmp_path)
    assert execute_job(dead, JobOptions()).status is JobStatus.SUCCESS  # no `claim`: the ordinary way
    assert read(os.path.join(dead.workdir, "o")) == "x\n" and _hidden(tmp_path) == []
    live = make_job(tmp_path, "t", 'echo y > "$o"', case=[("I", "1")])
    staged = staging.stage(live, "u")  # held by a live runner (here: this process, through another lock)
    assert staged is not None
    assert execute_job(live, JobOptions()).status is JobStatus.SUCCESS
    assert os.path.isdir(staged.path)  # not ours to delete: its runner discards it (its claim finds the job)
    staging.discard(staged)
    assert _hidden(tmp_path) == []


def test_the_runner_closes_with_no_folder_made_ahead_left(tmp_path) -> None:
    jobs = _chain(tmp_path, 2)
    backend = LocalBackend(1)
    backend.stage_ahead(jobs[0].id, [jobs[1]])
    backend.start(jobs[0], 1)
    assert [o.status for o in backend.wait_any(None)] == [JobStatus.SUCCESS]
    assert os.path.isdir(staging.staged_path(jobs[1].workdir))
    backend.close()
    assert _hidden(tmp_path) == [] and not os.path.exists(jobs[1].workdir)


def test_a_process_started_with_other_settings_than_the_jobs_start_is_let_go(tmp_path) -> None:
    from hypermetric.execution.prepare import environment
    from hypermetric.execution.process import start_script

    job = make_job(tmp_path, "t", 'echo "${X-none}" > "$o"')
    staged = staging.stage(job, "u")
    assert staged is not None
    base = JobOptions()
    env = environment(base, staged.variables)
    started = start_script(staged.path, base.shell, env, (staged.held.fd,), True, cd=job.workdir)
    assert not isinstance(started, int)
    staged.started, staged.launch = started, (tuple(base.shell), env)
    options = JobOptions(env=(("X", "1"),))  # as a backend sets per job (GPU devices, a remote machine)
    outcome = execute_job(job, options, hooks=JobHooks(claim=lambda j: staged, on_spawn=lambda proc: None))
    assert outcome.status is JobStatus.SUCCESS and read(os.path.join(job.workdir, "o")) == "1\n"
    assert started.proc.returncode == 125  # let go at its gate: it ran nothing
