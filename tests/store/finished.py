"""A planned tensor whose jobs look as a successful run leaves them, for the tests of the status of done jobs."""

from __future__ import annotations

import os
import time

from hypermetric import api
from hypermetric.execution.protocol import JobOptions, _record
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.signature import Signer
from hypermetric.record import replace

PIPELINE = """\
a = {{A: {a}}}
b = {{B: {b}}}

task t(a=$, b=$) -> out:
  echo $a $b > $out

task u(a=$) -> out:
  echo $a > $out
"""


def tensor(root: str, a: int, b: int) -> JobGraph:
    """A planned `a` x `b` tensor `t` whose jobs look as a successful run leaves them (the job protocol's own
    record, with the planned signature), and a task `u` that never ran (its folder does not exist)."""
    write(os.path.join(root, "main.hm"), PIPELINE.format(a=" ".join(map(str, range(a))),
                                                       b=" ".join(map(str, range(b)))))
    graph = plan(root)
    signer = Signer(graph)
    now = time.time()
    for job_id in graph.order():
        if not job_id.startswith("t"):
            continue
        job = graph.jobs[job_id]
        signature = signer.signature(job_id)
        os.makedirs(job.workdir)
        for _, rel in job.outputs:
            write(os.path.join(job.workdir, rel), "x\n")
        _record(replace(job, signature=signature.digest, built_from=signature.built_from),
                JobOptions(), 0, 1, now, now)
    return graph


def plan(root: str) -> JobGraph:
    """The tensor's graph planned afresh: no job built yet."""
    path = os.path.join(root, "main.hm")
    return api.plan(api.load(path), ["t[A: *, B: *]", "u[A: *]"], root_override=os.path.join(root, "out"))


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
