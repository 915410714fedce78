"""The done jobs' signature lines of a run record, spooled once the status pass is over: taken a block at a time
from the digests the pass learnt where it learnt them, they are the lines asked job by job."""

from __future__ import annotations

import random

from hypermetric.plan.signature_learned import LearnedDigests
from hypermetric.store.done_signatures import NONE, DoneSignatures


def test_the_lines_taken_from_the_learnt_digests_are_those_asked_one_by_one() -> None:
    rng = random.Random(5)
    order = [f"t?A={i}" for i in range(10_000)]  # (more than one block of lines)
    learned = LearnedDigests(order)
    computed: dict[str, str] = {}  # digests known another way (by id, as a signer keeps computed ones)
    not_done = set()
    for index, job_id in enumerate(order):
        kind = rng.randrange(5)
        if kind == 0:
            learned.learn(index, job_id, rng.randbytes(10).hex())  # the usual form
        elif kind == 1:
            learned.learn(index, job_id, "Z" + rng.randbytes(4).hex())  # another form: kept by id
        elif kind == 2:
            computed[job_id] = rng.randbytes(10).hex()
        elif kind == 3:
            not_done.add(job_id)
        # (4: a done job with no digest at all)
    asked: list[str] = []

    def digest(job_id: str, index: int) -> str | None:
        asked.append(job_id)
        return computed.get(job_id) or learned.get(job_id, index)

    one_by_one = DoneSignatures.spool(order, not_done, digest)
    assert one_by_one is not None
    expected = list(one_by_one.lines())
    asked.clear()
    in_blocks = DoneSignatures.spool(order, not_done, digest, lambda _, start, stop: learned.block(start, stop))
    assert in_blocks is not None
    assert list(in_blocks.lines()) == expected
    assert NONE in expected and "" in expected
    learnt = {job_id for index, job_id in enumerate(order) if learned.block(index, index + 1)[0]}
    assert len(learnt) > 1000 and not learnt & set(asked)  # a job learnt in the usual form is not asked for
    assert len(asked) == len(order) - len(learnt) - len(not_done)
    one_by_one.close()
    in_blocks.close()
