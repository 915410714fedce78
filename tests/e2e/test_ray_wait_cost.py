"""How the Ray backend's driver hears that a task ended: at a small `-j` by `ray.wait` over the tasks in
flight, with no completion callback per task (a callback's thread takes Python's lock from the main thread
for every task); at a large `-j`, where that wait would cost more per call with every task in flight, by one
callback per task. This is where every job is a Ray task of its own: jobs of the default kind share tasks
instead (`test_ray_runners`), except where runners cannot reach the driver (through Ray Client, say), which
the driver below stands for by saying runners cannot be used. Each run is the CLI in a subprocess joined to
the session's cluster, counting in the driver the ends it heard of, which of these came through a callback
(on Ray's thread), and its calls of `ray.wait` for the next end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hypermetric.execution.ray_backend import WAIT_LIMIT

PIPELINE = """\
n = {N: 0 1 2 3 4 5}
task a(n=$) -> o:
  echo "$n" > $o
task b(x=$a.o, n=$) -> o:
  cat $x > $o
"""

DRIVER = """\
import json, sys, threading
from hypermetric.execution import ray_backend
from hypermetric.cli.app import main

counts = {"callbacks": 0, "ends": 0, "waits": 0}
finish = ray_backend.RayBackend._finish
wait = getattr(ray_backend.RayBackend, "_wait", None)

def counted_finish(self, ref, future):
    counts["ends"] += 1
    if threading.current_thread() is not threading.main_thread():   # Ray's thread runs the callbacks
        counts["callbacks"] += 1
    finish(self, ref, future)

def counted_wait(self, timeout):
    counts["waits"] += 1
    wait(self, timeout)

if wait is not None:
    ray_backend.RayBackend._wait = counted_wait
ray_backend.RayBackend._finish = counted_finish
ray_backend.runners_usable = lambda ray: False
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as f:
        json.dump(counts, f)
sys.exit(code)
"""


def _run(root, jobs: int, address: str) -> dict[str, int]:
    (root / "main.hm").write_text(PIPELINE)
    (root / "driver.py").write_text(DRIVER)
    env = {**os.environ, "RAY_ADDRESS": address}
    done = subprocess.run([sys.executable, "driver.py", "counts.json", "run", "main.hm", "b[N: *]", f"-j{jobs}",
                           "--backend", "ray", "-y"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "12 succeeded" in done.stdout, done.stdout
    assert sorted(p.read_text() for p in (root / "out" / "b").glob("*/o")) == [f"{n}\n" for n in range(6)]
    return json.loads((root / "counts.json").read_text())


@pytest.mark.ray
def test_at_a_small_j_no_task_gets_a_completion_callback(tmp_path, ray_cluster) -> None:
    counts = _run(tmp_path, 2, ray_cluster.address)
    assert counts["ends"] == 12
    assert counts["callbacks"] == 0   # fails on the code before: one per task


@pytest.mark.ray
def test_at_a_large_j_the_driver_never_waits_over_the_tasks_in_flight(tmp_path, ray_cluster) -> None:
    counts = _run(tmp_path, WAIT_LIMIT + 1, ray_cluster.address)
    assert counts["ends"] == 12
    assert counts["waits"] == 0
