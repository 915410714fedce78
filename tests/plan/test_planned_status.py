"""The status pass of a planned graph's done jobs builds no `Job` and keeps a bounded number of bytes per done
job (counted and traced, not timed, so a busy machine cannot fail it)."""

from __future__ import annotations

import os
import time
import tracemalloc

import pytest
from semantics.helpers import load

from hypermetric import api
from hypermetric.execution.protocol import JobOptions, _record
from hypermetric.plan.signature import Signer
from hypermetric.record import replace
from hypermetric.store import statuscache
from hypermetric.store.staleness import Staleness, prepare_run
from hypermetric.store.status import JobStatus

# 40 x 50 = 2,000 cases of `t`, all done, and 40 reductions `r`, not run.
SWEEP = """\
a = {A: %s}
b = {B: %s}

task t(a=$, b=$) -> out:
  echo $a $b > $out

task r(x=$t[B: *].out) -> out:
  cat $x/* > $out
""" % (" ".join(f"a{i}" for i in range(40)), " ".join(map(str, range(50))))
DONE = 2000

# Measured on the 2-vCPU VM, 2026-12-03, with the status cache warm: 169 bytes per done job at the peak of the
# pass beyond planning (the cache file's 57 bytes, the folder listing's 2, the signer's digest) and 98 kept
# after (the signer's digest, which dependents' signatures need); before, every done job was built as a `Job`
# and kept, 2,000 bytes and more each.
MAX_PEAK_PER_DONE = 400
MAX_KEPT_PER_DONE = 200


def _done(tmp_path) -> None:
    """Every `t` job as a successful run leaves it (the job protocol's own record, the planned signature)."""
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: *]"])
    signer = Signer(graph)
    now = time.time()
    for job_id in graph.order():
        if job_id.startswith("t"):
            signature = signer.signature(job_id)
            job = replace(graph.jobs[job_id], signature=signature.digest,
                                      built_from=signature.built_from)
            os.makedirs(job.workdir)
            with open(os.path.join(job.workdir, "out"), "w") as f:
                f.write("x\n")
            _record(job, JobOptions(), 0, 1, now, now)


def _fresh(tmp_path):
    graph = api.plan(api.load(str(tmp_path / "main.hm"), cwd=str(tmp_path)), ["r[A: *]"])
    graph.order()
    return graph


@pytest.mark.parametrize("warm", [False, True])
def test_the_status_pass_of_done_jobs_builds_no_job(tmp_path, monkeypatch, warm) -> None:
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)  # trust files just written: the cache is used
    _done(tmp_path)
    if warm:
        Staleness(_fresh(tmp_path)).states()
    graph = _fresh(tmp_path)
    states = Staleness(graph).states()
    assert sum(s is JobStatus.COMPLETE for s, _ in states.values()) == DONE
    assert graph.jobs.built_count() == 0  # type: ignore[attr-defined]  # the planner's lazy mapping
    prepared = prepare_run(graph)
    assert len(prepared.not_done) == 40
    assert graph.jobs.built_count() == 40  # type: ignore[attr-defined]  # only the jobs to run


def test_a_done_job_costs_a_few_dozen_bytes_in_the_status_pass(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)
    _done(tmp_path)
    Staleness(_fresh(tmp_path)).states()  # the cache is warm
    graph = _fresh(tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        statuses = [status for _, status, _ in Staleness(graph).each()]
        _, peak = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert statuses.count(JobStatus.COMPLETE) == DONE
    kept = sum(s.size_diff for s in after.compare_to(before, "filename")) - 8 * len(statuses)  # the list
    assert (peak - base) / DONE < MAX_PEAK_PER_DONE, f"{(peak - base) / DONE:.0f} bytes per done job at the peak"
    assert kept / DONE < MAX_KEPT_PER_DONE, f"{kept / DONE:.0f} bytes kept per done job"
