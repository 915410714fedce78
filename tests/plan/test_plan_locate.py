"""What the status of a done job needs from the planner, without building the job: its directory and its
outputs' paths (`PlannedJobs.locate`, `workdir`, `local_outputs`), the same as the built job's."""

from __future__ import annotations

import pytest
from semantics.helpers import load

from hypermetric import api

FS = """
object plain:
  root = "/plain"
  separator = "/"
  def exists(file):
    test -e "$root/$file"
"""
SHAPES = {
    "keys": ("local.max_file_name_length = 12\na = {A: 'p q' 'x&y' 'é' longlonglongkey}\n"
             "b = {B: 0 1 'a b' zzzzzzzzzzzzz}\ntask t(a=$, b=$) -> (o=\"out\", p=\"sub/p.txt\"):\n  true\n"
             "task r(x=$t[A: *, B: *].o) -> out:\n  true\n", ["r", "t"]),
    "files": ("a = {A: a0 a1}\nb = {B: 0 1 2}\n"
              'task t(a=$, b=$) -> (o={B: 0="zero.txt" 1="one.txt" 2="two.txt"}):\n  true\n'
              "task r(x=$t[B: *].o) -> out:\n  true\n", ["r[A: *]"]),
    "fs": (FS + "a = {A: a0 a1}\nb = {B: 0 1 2}\ntask t(a=$, b=$) -> (out@plain=\"o\", here=\"h\"):\n  true\n"
           "task r(x=$t[B: *].out, y=$t.here) -> out:\n  true\n", ["r[A: *]"]),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_planned_job_is_located_as_the_built_job_is(tmp_path, shape):
    text, targets = SHAPES[shape]
    pipeline = load(tmp_path, text)
    planned, built = api.plan(pipeline, targets), api.plan(pipeline, targets)
    jobs = planned.jobs
    before = jobs.built_count()  # type: ignore[attr-defined]  # all of them where there are file systems
    for job_id in built.order():
        job = built.jobs[job_id]
        outputs = None if job.output_fs else tuple(rel for _, rel in job.outputs)
        assert jobs.locate(job_id) == (job.workdir, outputs)  # type: ignore[attr-defined]
        assert (jobs.workdir(job_id), jobs.local_outputs(job_id)) == (job.workdir, outputs)  # type: ignore[attr-defined]
    assert jobs.built_count() == before  # type: ignore[attr-defined]
    for job_id in built.order():  # and once built, from the job itself
        job = jobs[job_id]
        assert jobs.locate(job_id) == (job.workdir, None if job.output_fs else tuple(r for _, r in job.outputs))  # type: ignore[attr-defined]


def test_jobs_of_one_task_share_their_outputs_paths(tmp_path):
    graph = api.plan(load(tmp_path, SHAPES["keys"][0]), ["r"])
    found = {id(graph.jobs.locate(i)[1]) for i in graph.jobs if i.startswith("t")}  # type: ignore[attr-defined]
    assert len(found) == 1
