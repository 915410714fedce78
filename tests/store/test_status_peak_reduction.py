"""A pending reduction over done jobs whose digests the status pass learnt (kept by position, not by id) gets
exactly the signature the frozen reference algorithm gives it, and the run record's `signatures` lines of the
done jobs are their digests."""

from __future__ import annotations

import os
import time

import pytest
from finished import write
from plan.signature_reference import Signer as Reference

from hypermetric import api
from hypermetric.execution.protocol import JobOptions, _record
from hypermetric.plan.signature import Signer
from hypermetric.record import replace
from hypermetric.store import statuscache
from hypermetric.store.staleness import Staleness, prepare_run

PIPELINE = """\
a = {A: 0 1 2}
b = {B: 0 1 2 3 4 5 6 7 8 9 10 11}

task t(a=$, b=$) -> out:
  echo $a $b > $out

task r(x=$t[B: *].out) -> out:
  cat $x/* > $out
"""


def _plan(root: str):
    return api.plan(api.load(os.path.join(root, "main.hm")), ["r[A: *]"], root_override=os.path.join(root, "out"))


def test_a_pending_reduction_over_learnt_digests_is_signed_as_the_reference_signs_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)  # the files just written are cached
    root = str(tmp_path)
    write(os.path.join(root, "main.hm"), PIPELINE)
    graph = _plan(root)
    signer, now = Signer(graph), time.time()
    t = [i for i in graph.order() if i.startswith("t")]
    for job_id in t[1:]:  # all done but the first: one reduction is pending for two reasons
        job, signature = graph.jobs[job_id], signer.signature(job_id)
        os.makedirs(job.workdir)
        write(os.path.join(job.workdir, "out"), "x\n")
        _record(replace(job, signature=signature.digest, built_from=signature.built_from),
                JobOptions(), 0, 1, now, now)
    Staleness(_plan(root)).states()  # the cache learns every done job's digest to be the planned one

    graph = _plan(root)
    prepared = prepare_run(graph)
    learnt = prepared.signer._learned
    assert learnt is None  # let go once the pass is over: the done jobs' digests wait in the spooled file
    reference = Reference(_plan(root))
    r = [i for i in graph.order() if i.startswith("r")]
    assert prepared.not_done == {t[0], *r}
    for job_id in r:
        expected = reference.signature(job_id)
        assert (graph.jobs[job_id].signature, graph.jobs[job_id].built_from) == (expected.digest,
                                                                                 expected.built_from)
    assert prepared.done_signatures is not None
    lines = list(prepared.done_signatures.lines())
    prepared.close()
    assert lines == ["" if i in prepared.not_done else reference.signature(i).digest for i in graph.order()]


def test_the_pass_learns_done_digests_by_position(tmp_path, monkeypatch) -> None:
    """(What the test above relies on: the learnt digests are those of the compact store, not strings by id.)"""
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)
    root = str(tmp_path)
    write(os.path.join(root, "main.hm"), PIPELINE)
    graph = _plan(root)
    signer, now = Signer(graph), time.time()
    for job_id in [i for i in graph.order() if i.startswith("t")]:
        job, signature = graph.jobs[job_id], signer.signature(job_id)
        os.makedirs(job.workdir)
        write(os.path.join(job.workdir, "out"), "x\n")
        _record(replace(job, signature=signature.digest, built_from=signature.built_from),
                JobOptions(), 0, 1, now, now)
    Staleness(_plan(root)).states()
    staleness = Staleness(_plan(root))
    states = staleness.states()
    learnt = staleness.signer._learned
    assert learnt is not None and len(learnt) == 36 and not staleness.signer._digests
    reference = Reference(_plan(root))
    assert all(staleness.signer.known_digest(i) == reference.signature(i).digest for i in states if i[0] == "t")


@pytest.fixture(autouse=True)
def _no_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """(Small passes never fork; said here so that a change of the threshold cannot make this test fork.)"""
    monkeypatch.setattr("hypermetric.store.staleness.SPLIT_FROM", 10**9)
