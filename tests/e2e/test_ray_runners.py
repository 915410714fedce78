"""`run --backend ray` runs its jobs in runners: Ray tasks that each run job after job, so that at `-j2` Ray is
asked for two tasks however many jobs run, and a worker goes on with the next job without asking Ray again.
Ctrl-C ends the jobs running and runs none of those waiting. Runners that cannot reach the driver leave each
job a Ray task of its own.

Each test runs the CLI in a subprocess at `-j2`, on a Ray it starts itself (`embedded`: runners connect over
a Unix socket) or joined to the session's cluster of 2 CPUs (`joined`: over TCP). Jobs `a` 0 and 1
block reading a FIFO of their own, so the test knows when they run (opening the FIFO's other end succeeds
only then) and decides when and how they end; the jobs `b` depend on them. The driver counts the tasks it
asks Ray for to run jobs (through Ray's remote functions) and writes the count to a file whenever it
changes. Every job marks that its script ran, with the process id of its parent (the Ray worker that runs it).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import pytest
from support.waiting import alive, wait_until

PIPELINE = """\
n = {N: 0 1 2 3}
task a(n=$) -> o:
  echo $PPID > "ROOT/ran/a$n"
  echo $$ > "ROOT/pids/a$n"
  x=ok
  if [ -p "ROOT/gates/a$n" ]; then read x < "ROOT/gates/a$n"; fi
  [ "$x" = ok ]
  touch $o
task b(x=$a.o, n=$) -> o:
  echo $PPID > "ROOT/ran/b$n"
  touch $o
"""

DRIVER = """\
import os, sys
import ray.remote_function as rf
from hypermetric.cli.app import main

counter, asked = sys.argv[1], [0]
submit = rf.RemoteFunction._remote

def counted_submit(self, *args, **kwargs):
    if self._function.__name__ in ("run_runner", "run_task"):   # not the cluster's package probe, say
        asked[0] += 1
        with open(counter + ".new", "w") as f:
            f.write(str(asked[0]))
        os.replace(counter + ".new", counter)
    return submit(self, *args, **kwargs)

rf.RemoteFunction._remote = counted_submit
sys.exit(main(sys.argv[2:]))
"""


class _Run:
    def __init__(self, root, env: dict[str, str]) -> None:
        self.root = root
        for name in ("ran", "gates", "pids"):
            os.mkdir(root / name)
        for n in (0, 1):
            os.mkfifo(root / "gates" / f"a{n}")
        (root / "main.hm").write_text(PIPELINE.replace("ROOT", str(root)))
        (root / "driver.py").write_text(DRIVER)
        self.counter = root / "tasks-asked"
        self.proc = subprocess.Popen([sys.executable, "driver.py", str(self.counter), "run", "main.hm",
                                      "b[N: *]", "-j2", "--backend", "ray", "-y"],
                                     cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.gates: dict[int, int] = {}

    def running(self, n: int) -> None:
        """Wait until job a`n` reads its FIFO (opening the writing end succeeds only once it does)."""
        def opened() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"the run ended before job a{n} ran:\n{self.proc.communicate()[0]}")
            try:
                self.gates[n] = os.open(self.root / "gates" / f"a{n}", os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                return False
            return True
        wait_until(opened, what=f"job a{n} to run")

    def release(self, n: int, word: str) -> None:
        os.write(self.gates[n], f"{word}\n".encode())
        os.close(self.gates.pop(n))

    def read_until(self, text: str) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if text in line:
                return
        raise AssertionError(f"the run ended without printing {text!r}")

    def tasks_asked(self) -> int:
        return int(self.counter.read_text()) if self.counter.exists() else 0

    def pid(self, name: str) -> int:
        return int((self.root / "pids" / name).read_text())

    def finish(self) -> tuple[int, str, dict[str, str]]:
        """The run's exit code, its output, and the parent process of each job that ran, by job."""
        out, _ = self.proc.communicate(timeout=120)
        ran = {name: (self.root / "ran" / name).read_text().strip() for name in os.listdir(self.root / "ran")}
        return self.proc.returncode, out, ran

    def close(self) -> None:
        for fd in self.gates.values():
            os.close(fd)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(params=["embedded", "joined"])
def ray_env(request) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    if request.param == "joined":
        env["RAY_ADDRESS"] = request.getfixturevalue("ray_cluster").address
    return env


@pytest.fixture
def run(tmp_path, ray_env):
    runner = _Run(tmp_path, ray_env)
    yield runner
    runner.close()


@pytest.mark.ray
def test_at_j2_two_ray_tasks_run_every_job_each_worker_going_on_with_the_next(run) -> None:
    run.running(0)
    run.running(1)
    assert run.tasks_asked() == 2   # one runner per job running, no more: the other jobs wait for them
    run.release(0, "ok")
    run.release(1, "ok")
    code, out, ran = run.finish()
    assert code == 0, out
    assert sorted(ran) == ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"], out
    assert "8 succeeded" in out, out
    # fails on the code before, which asked Ray for a task per job (and more, handed over ahead)
    assert run.tasks_asked() == 2, out
    assert len(set(ran.values())) == 2, ran   # each job ran in one of the two runners' workers


@pytest.mark.ray
def test_after_a_failure_the_runners_run_nothing_more(run) -> None:
    run.running(0)
    run.running(1)
    run.release(0, "fail")
    run.read_until("FAILED")        # the driver has seen the failure: nothing new starts
    run.release(1, "ok")            # b1's only dependency succeeds, but the run has stopped
    code, out, ran = run.finish()
    assert code == 1, out
    assert sorted(ran) == ["a0", "a1"], out
    assert "1 succeeded, 1 failed" in out, out
    assert run.tasks_asked() == 2, out


@pytest.mark.ray
def test_ctrl_c_ends_the_jobs_running_and_starts_no_other(run) -> None:
    run.running(0)
    run.running(1)
    pids = [run.pid("a0"), run.pid("a1")]
    run.proc.send_signal(signal.SIGINT)
    code, out, ran = run.finish()
    assert code == 130, out
    assert sorted(ran) == ["a0", "a1"], out
    for n in (0, 1):  # interrupted, not done
        assert not os.path.exists(run.root / "out" / "a" / ("default" if n == 0 else f"N={n}") / "exitcode"), out
    wait_until(lambda: not any(alive(pid) for pid in pids), what="the scripts to end")


@pytest.mark.ray
def test_where_no_socket_can_be_made_every_job_is_a_ray_task_of_its_own(tmp_path) -> None:
    deep = tmp_path / ("d" * 120)   # too long a path for a socket: the driver cannot listen for runners
    deep.mkdir()   # (Ray's own sockets go under RAY_TMPDIR, a short path)
    (tmp_path / "main.hm").write_text('n = {N: 0 1 2}\ntask t(n=$) -> o:\n  echo "$n" > $o\n')
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "TMPDIR": str(deep), "RAY_TMPDIR": "/tmp"}
    done = subprocess.run([sys.executable, "driver.py", str(tmp_path / "asked"), "run", "main.hm", "t[N: *]",
                           "-j2", "--backend", "ray", "-y"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "3 succeeded" in done.stdout, done.stdout + done.stderr
    assert int((tmp_path / "asked").read_text()) == 3   # one task per job, no runner
    assert sorted(p.read_text() for p in (tmp_path / "out" / "t").glob("*/o")) == ["0\n", "1\n", "2\n"]


UNREACHABLE = """\
import socket
from hypermetric.execution import ray_runner

made = ray_runner.Listener.__init__

def elsewhere(self, host=None):   # runners are sent an address where nothing listens
    made(self, host)
    if host is None:
        self.address += "-elsewhere"
    else:
        with socket.socket() as spare:
            spare.bind((host, 0))
            self.address = (host, spare.getsockname()[1])

ray_runner.Listener.__init__ = elsewhere
"""


@pytest.mark.ray
def test_where_runners_cannot_reach_the_driver_every_job_gets_a_ray_task(tmp_path, ray_env) -> None:
    (tmp_path / "main.hm").write_text('n = {N: 0 1 2 3}\ntask t(n=$) -> o:\n  echo "$n" > $o\n')
    (tmp_path / "driver.py").write_text(DRIVER.replace("import ray.remote_function", UNREACHABLE + "import ray.remote_function"))
    done = subprocess.run([sys.executable, "driver.py", str(tmp_path / "asked"), "run", "main.hm", "t[N: *]",
                           "-j2", "--backend", "ray", "-y"], cwd=tmp_path, env=ray_env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "4 succeeded" in done.stdout, done.stdout + done.stderr
    # The runners asked for (one or two: the second may be asked for before the first says it cannot connect),
    # then a task per job; none of the jobs failed or ran twice.
    assert 4 + 1 <= int((tmp_path / "asked").read_text()) <= 4 + 2
    assert sorted(p.read_text() for p in (tmp_path / "out" / "t").glob("*/o")) == ["0\n", "1\n", "2\n", "3\n"]
    assert all((p.parent / "job.json").exists() for p in (tmp_path / "out" / "t").glob("*/o"))
