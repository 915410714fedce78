"""Digests learnt by position (plan/signature_learned.py) read back exactly as they were given, in any order of
asking, and the signer that keeps them gives the same signatures as one that keeps strings by id."""

from __future__ import annotations

import os
import random

from hypermetric.plan.signature_learned import LearnedDigests


def _ids(n: int) -> list[str]:
    return [f"t?A={i % 7}&B={i}" for i in range(n)]


def test_digests_read_back_exactly_in_any_order() -> None:
    order = _ids(5_000)
    rng = random.Random(7)
    expected = {}
    learnt = LearnedDigests(order)
    for index, job_id in enumerate(order):
        if rng.random() < 0.7:
            digest = os.urandom(10).hex()
            learnt.learn(index, job_id, digest)
            expected[job_id] = digest
            if rng.random() < 0.1:  # a lookup now and then while learning: the table is made, then topped up
                probe = rng.choice(order[:index + 1])
                assert learnt.get(probe) == expected.get(probe)
    asked = list(order)
    rng.shuffle(asked)
    for job_id in asked + order + asked[:100]:
        fresh = job_id.encode().decode()  # an equal string, not the order's own object
        assert learnt.get(fresh) == expected.get(job_id)
        assert (fresh in learnt) is (job_id in expected)
    assert len(learnt) == len(expected)
    assert learnt.get("t?A=0&B=-1") is None and "nothing" not in learnt


def test_digests_of_other_forms_are_kept_as_given_and_the_first_learnt_stays() -> None:
    order = _ids(10)
    learnt = LearnedDigests(order)
    others = ["ABCDEF0123456789abcd", "0123", "", "0123456789abcdef0123456789abcdef", "zz3456789abcdef01234",
              "01 3456789abcdef0123"]
    for index, digest in enumerate(others):
        learnt.learn(index, order[index], digest)
    learnt.learn(6, order[6], "00000000000000000000")  # all zeros: still a digest
    learnt.learn(6, order[6], "11111111111111111111")
    learnt.learn(0, order[0], "22222222222222222222")
    assert [learnt.get(job_id) for job_id in order[:6]] == others
    assert learnt.get(order[6]) == "00000000000000000000"
    assert learnt.get(order[7]) is None and order[7] not in learnt
