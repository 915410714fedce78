"""A Ray backend used as a library on a Ray that stays up after it (this process joined the session's cluster
itself): closing it cancels the runners it asked Ray for that Ray has not started, so that none starts later
for nothing. The cluster's two CPUs are held by a task blocked on a FIFO, so the runner for the job waits."""

from __future__ import annotations

import os

import pytest
from execution.jobs import make_job
from support.waiting import BOUND, wait_until


@pytest.mark.ray
def test_closing_cancels_the_runners_ray_has_not_started(tmp_path, ray_cluster) -> None:
    import ray

    from hypermetric.execution.ray_backend import RayBackend

    started, gate = tmp_path / "holder-started", tmp_path / "gate"
    os.mkfifo(gate)

    @ray.remote(num_cpus=2)
    def hold(started: str, gate: str) -> None:
        open(started, "w").close()
        with open(gate) as f:   # until the test writes the FIFO's other end
            f.read()

    holder = hold.remote(str(started), str(gate))
    wait_until(started.exists, what="the task holding the cluster's CPUs to start")
    job = make_job(tmp_path / "out", "t", 'touch "$o"')
    backend = RayBackend(1)
    try:
        backend.start(job, 1)
        runners = backend._pull.refs()   # the runner asked for the job, waiting for a CPU
        assert len(runners) == 1
    finally:
        backend.close()
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(runners[0], timeout=BOUND)
    with open(gate, "w") as f:
        f.write("go\n")
    ray.get(holder, timeout=BOUND)
    assert not os.path.exists(job.workdir)   # the job never ran
