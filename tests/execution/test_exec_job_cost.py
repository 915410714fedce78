"""What one job costs the process that runs it, counted (never timed): the files it opens and makes, the
directories it lists, and how its shell is started. Counted through Python's audit hooks, which see every
`open`, `mkdir`, `rename`, `remove`, `scandir` and `subprocess.Popen` of this process."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from jobs import consume, make_job, reduce_over

from hypermetric.execution import spawn
from hypermetric.execution.hooks import JobHooks
from hypermetric.execution.protocol import JobOptions, execute_job
from hypermetric.store.status import JobStatus

_WATCHED = ("open", "os.mkdir", "os.rename", "os.remove", "os.scandir", "os.listdir", "os.symlink",
            "subprocess.Popen")
_calls: list[tuple[str, tuple[object, ...]]] = []
_recording = threading.Event()


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recording.is_set() and event in _WATCHED:
        _calls.append((event, args))


sys.addaudithook(_hook)  # an audit hook cannot be removed: it records only inside `_recorded`


@contextmanager
def _recorded(under: str) -> Iterator[list[tuple[str, str]]]:
    """The watched calls made meanwhile on paths under `under`, as (event, path relative to `under`), and
    every `subprocess.Popen` as ("subprocess.Popen", its program)."""
    seen: list[tuple[str, str]] = []
    _calls.clear()
    _recording.set()
    try:
        yield seen
    finally:
        _recording.clear()
    for event, args in _calls:
        if event == "subprocess.Popen":
            seen.append((event, str(args[1][0])))  # type: ignore[index]
            continue
        path = args[1] if event == "os.symlink" else args[0] if args else None  # a link: where it is made
        if isinstance(path, str) and path.startswith(under):
            seen.append((event, os.path.relpath(path, under)))


def _lines(job: object, stream: str, line: str) -> None:
    pass


@pytest.mark.parametrize("on_output", [None, _lines], ids=["files", "streamed"])
def test_a_fresh_job_opens_each_of_its_files_once_and_nothing_else(tmp_path, on_output) -> None:
    job = make_job(tmp_path, "t", 'echo hi > "$o"')
    os.mkdir(os.path.dirname(job.workdir))  # the task's folder, as every job of a task but the first finds it
    with _recorded(str(tmp_path)) as seen:
        outcome = execute_job(job, JobOptions(), on_output, hooks=JobHooks(on_spawn=lambda proc: None))
    assert outcome.status is JobStatus.SUCCESS
    opened = [path for event, path in seen if event == "open"]
    # no `exitcode` read before or after locking (the directory is new), no temporary file (the record is
    # written in place, `exitcode` last), no log file opened twice
    assert opened == ["t/default/.lock", "t/default/script", "t/default/args", "t/default/stdout",
                      "t/default/stderr", "t/default/job.json", "t/default/exitcode"]
    assert [path for event, path in seen if event == "os.mkdir"] == ["t/default"]
    # the directory it made is not listed (see `protocol._run_locked`)
    assert [path for event, path in seen if event in ("os.scandir", "os.listdir")] == []
    assert [path for event, path in seen if event == "os.rename"] == []
    assert [path for event, path in seen if event == "os.remove"] == ["t/default/.lock"]
    assert sorted(os.listdir(job.workdir)) == ["args", "exitcode", "job.json", "o", "script", "stderr",
                                               "stdout"]


def test_inputs_are_linked_with_one_call_each(tmp_path) -> None:
    ups = [make_job(tmp_path, "u", 'echo $I > "$o"', case=[("I", str(i))], variables={"I": str(i)})
           for i in range(5)]
    for up in ups:
        assert execute_job(up).status is JobStatus.SUCCESS
    one = consume(tmp_path, "c", 'cat "$i" > "$o"', ups[0])
    many = reduce_over(tmp_path, "r", 'cat d/* > "$o"', ups, "I")
    for job in (one, many):
        os.mkdir(os.path.dirname(job.workdir))
    with _recorded(str(tmp_path)) as seen:
        assert execute_job(one).status is JobStatus.SUCCESS
        assert execute_job(many).status is JobStatus.SUCCESS
    # no `makedirs` of the link's folder, and no look for something to replace, before each link
    assert [path for event, path in seen if event == "os.mkdir"] == ["c/default", "r/default", "r/default/d"]
    assert len([path for event, path in seen if event == "os.symlink"]) == 1 + 5
    with open(os.path.join(many.workdir, "o")) as f:
        assert f.read() == "0\n1\n2\n3\n4\n"
    assert os.readlink(os.path.join(one.workdir, "i")) == "../../u/I=0/o"


def test_a_rerun_still_checks_and_empties_what_an_earlier_attempt_left(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo once >> ../runs; exit 1')
    assert execute_job(job).status is JobStatus.FAILED
    assert execute_job(job).status is JobStatus.FAILED
    assert sorted(os.listdir(job.workdir)) == ["args", "exitcode", "job.json", "script", "stderr", "stdout"]
    with open(os.path.join(tmp_path, "t", "runs")) as f:
        assert f.read() == "once\nonce\n"


def test_the_shell_is_started_by_its_path_found_once(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(spawn, "_FOUND", {})
    searches: list[str] = []
    search = spawn._search
    monkeypatch.setattr(spawn, "_search", lambda name, dirs: searches.append(name) or search(name, dirs))
    jobs = [make_job(tmp_path, "t", 'echo hi > "$o"', case=[("I", str(i))]) for i in range(3)]
    with _recorded(str(tmp_path)) as seen:
        for job in jobs:
            assert execute_job(job).status is JobStatus.SUCCESS
    started = [program for event, program in seen if event == "subprocess.Popen"]
    # no `PATH` search in the child (one failed `execve` per directory before bash's) and none in bash
    assert len(started) == 3 and all(os.path.isabs(p) and os.path.basename(p) == "bash" for p in started)
    assert searches == ["bash"]


def test_a_path_with_a_relative_directory_is_left_to_the_child(tmp_path) -> None:
    assert spawn.program_path("sh", {"PATH": f"bin{os.pathsep}/usr/bin{os.pathsep}/bin"}) == "sh"
    assert spawn.program_path("sh", {"PATH": f"{os.pathsep}/usr/bin{os.pathsep}/bin"}) == "sh"
    assert spawn.program_path("./x", {"PATH": "/usr/bin"}) == "./x"
    assert spawn.program_path("no-such-program-here", {"PATH": str(tmp_path)}) == "no-such-program-here"


def test_a_program_removed_after_it_was_found_is_searched_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(spawn, "_FOUND", {})
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        tool = folder / "myshell"
        tool.write_text(f'#!/bin/sh\necho {folder.name} > "$o"\n')
        tool.chmod(0o755)
    env = dict(os.environ, PATH=f"{first}{os.pathsep}{second}{os.pathsep}{os.environ.get('PATH', '')}")
    options = JobOptions(shell=("myshell",), base_env=env)
    job = make_job(tmp_path, "a", "")
    assert execute_job(job, options).status is JobStatus.SUCCESS
    os.unlink(first / "myshell")
    later = make_job(tmp_path, "b", "")
    assert execute_job(later, options).status is JobStatus.SUCCESS
    with open(os.path.join(later.workdir, "o")) as f:
        assert f.read() == "second\n"
    assert spawn.program_path("myshell", env) == str(second / "myshell")


_KEEP_THREE = r'''
import os, sys
from hypermetric.execution.spawn import spawn
lock = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
if lock != 3:
    os.dup2(lock, 3, inheritable=False)
    os.close(lock)
before = sorted(os.listdir("/proc/self/fd"))
out = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
proc = spawn(os.path.dirname(sys.argv[1]), ["/bin/sh", "-c", "readlink /proc/self/fd/*; exit 0"], dict(os.environ),
             (out, out), (3,))
assert proc.wait() == 0
os.close(out)
assert sorted(os.listdir("/proc/self/fd")) == before, "a descriptor was left open"
'''


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_kept_descriptor_3_reaches_the_child_under_another_number(tmp_path) -> None:
    import subprocess

    lock, listing = tmp_path / ".lock", tmp_path / "fds"
    subprocess.run([sys.executable, "-c", _KEEP_THREE, str(lock), str(listing)], check=True)
    assert str(lock) in listing.read_text().splitlines()


def test_a_job_made_ahead_starts_without_making_a_file_a_directory_or_a_process(tmp_path) -> None:
    from hypermetric.execution import staging
    from hypermetric.execution.prepare import environment
    from hypermetric.execution.process import start_script

    job = make_job(tmp_path, "t", 'echo hi > "$o"')
    staged = staging.stage(job, "u")
    assert staged is not None
    options = JobOptions()
    env = environment(options, staged.variables)
    started = start_script(staged.path, options.shell, env, (staged.held.fd,), True, cd=job.workdir)
    assert not isinstance(started, int)
    staged.started, staged.launch = started, (tuple(options.shell), env)
    with _recorded(str(tmp_path)) as seen:
        outcome = execute_job(job, options, hooks=JobHooks(claim=lambda j: staged, on_spawn=lambda proc: None))
    assert outcome.status is JobStatus.SUCCESS
    assert [event for event, _ in seen if event in ("os.mkdir", "os.symlink", "subprocess.Popen")] == []
    # the folder put in place by one rename, then the record written in place
    assert [path for event, path in seen if event == "os.rename"] == ["t/.default.staged"]
    assert [path for event, path in seen if event == "open"] == ["t/default/job.json", "t/default/exitcode"]


def test_the_lock_holder_text_is_made_once_per_process(tmp_path, monkeypatch) -> None:
    from hypermetric.store import lock

    lock._HOLDER.clear()
    asked: list[int] = []
    getpid = os.getpid
    monkeypatch.setattr(os, "getpid", lambda: asked.append(1) or getpid())
    jobs = [make_job(tmp_path, "t", 'cat ../*/.lock > "$o"', case=[("I", str(i))]) for i in range(3)]
    for job in jobs:
        assert execute_job(job).status is JobStatus.SUCCESS
    assert len(asked) == 1
    with open(os.path.join(jobs[-1].workdir, "o")) as f:
        assert f.read() == f"{getpid()}@{lock.HOST}"
