"""`run --backend ray` on the Ray it starts itself hands the next jobs to Ray ahead of their turn, and a job so
handed over runs only once the scheduler has started it: never after a failure stopped the run, nor after
Ctrl-C.

Each test runs the CLI in a subprocess with an embedded Ray (no `RAY_ADDRESS`) at `-j2`. Jobs `a` 0 and 1
block reading a FIFO of their own, so the test knows when they run (opening the FIFO's other end succeeds
only then) and decides when and how they end; the jobs `b` depend on them, so the backend hands `b` 0 and 1
over ahead while the `a` jobs hold both of Ray's slots. A file the driver writes when it has more than two
tasks in flight with Ray (counted around Ray's own submission and our completion callback) says that the
hand-over happened. Every job marks that its script ran; what ran is read from those marks.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import pytest
from support.waiting import wait_until

PIPELINE = """\
n = {N: 0 1 2 3}
task a(n=$) -> o:
  touch "ROOT/ran/a$n"
  x=ok
  if [ -p "ROOT/gates/a$n" ]; then read x < "ROOT/gates/a$n"; fi
  [ "$x" = ok ]
  touch $o
task b(x=$a.o, n=$) -> o:
  touch "ROOT/ran/b$n"
  touch $o
"""

# The CLI, counting the tasks in flight with Ray: submissions through Ray's remote functions, minus the ends
# our backend's completion callback sees (both exist on the code before jobs were handed over ahead).
DRIVER = """\
import sys
import ray.remote_function as rf
from hypermetric.execution import ray_backend
from hypermetric.cli.app import main

marker, counts = sys.argv[1], {"sent": 0, "ended": 0}
submit, finish = rf.RemoteFunction._remote, ray_backend.RayBackend._finish

def note():
    if counts["sent"] - counts["ended"] > 2:
        open(marker, "a").close()

def counted_submit(self, *args, **kwargs):
    ref = submit(self, *args, **kwargs)
    counts["sent"] += 1
    note()
    return ref

def counted_finish(self, ref, future):
    counts["ended"] += 1
    finish(self, ref, future)

rf.RemoteFunction._remote = counted_submit
ray_backend.RayBackend._finish = counted_finish
sys.exit(main(sys.argv[2:]))
"""


class _Run:
    def __init__(self, root) -> None:
        self.root = root
        for name in ("ran", "gates"):
            os.mkdir(root / name)
        for n in (0, 1):
            os.mkfifo(root / "gates" / f"a{n}")
        (root / "main.hm").write_text(PIPELINE.replace("ROOT", str(root)))
        (root / "driver.py").write_text(DRIVER)
        self.marker = root / "more-than-two-in-flight"
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        self.proc = subprocess.Popen([sys.executable, "driver.py", str(self.marker), "run", "main.hm",
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

    def finish(self) -> tuple[int, str, list[str]]:
        out, _ = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, sorted(os.listdir(self.root / "ran"))

    def close(self) -> None:
        for fd in self.gates.values():
            os.close(fd)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def run(tmp_path):
    runner = _Run(tmp_path)
    yield runner
    runner.close()


@pytest.mark.ray
def test_the_next_jobs_wait_in_rays_queue_while_the_workers_are_busy(run) -> None:
    run.running(0)
    run.running(1)
    # fails on the code before: at -j2 the backend had only the two jobs the scheduler started with Ray
    wait_until(run.marker.exists, what="more than two tasks in flight with Ray at -j2")
    run.release(0, "ok")
    run.release(1, "ok")
    code, out, ran = run.finish()
    assert code == 0, out
    assert ran == ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"], out
    assert "8 succeeded" in out, out


@pytest.mark.ray
def test_a_job_handed_over_ahead_never_runs_after_a_failure_stopped_the_run(run) -> None:
    run.running(0)
    run.running(1)
    wait_until(run.marker.exists, what="b0 and b1 handed over ahead")
    run.release(0, "fail")          # a worker is free: Ray starts b0 or b1, which waits at the start gate
    run.read_until("FAILED")        # the driver has seen the failure: nothing new starts
    run.release(1, "ok")            # b1's only dependency succeeds, but the run has stopped
    code, out, ran = run.finish()
    assert code == 1, out
    assert ran == ["a0", "a1"], out
    assert "1 succeeded, 1 failed" in out, out
    assert not list(run.root.glob("out/b/*/exitcode")), out


@pytest.mark.ray
def test_a_job_handed_over_ahead_never_runs_after_ctrl_c(run) -> None:
    run.running(0)
    run.running(1)
    wait_until(run.marker.exists, what="b0 and b1 handed over ahead")
    run.release(0, "fail")          # b0 or b1 now waits at the start gate, the other in Ray's queue
    run.read_until("FAILED")
    run.proc.send_signal(signal.SIGINT)
    code, out, ran = run.finish()
    assert code == 130, out
    assert ran == ["a0", "a1"], out
    assert not list(run.root.glob("out/b/*/exitcode")), out
    assert not os.path.exists(run.root / "out" / "a" / "N=1" / "exitcode"), out  # interrupted, not done
