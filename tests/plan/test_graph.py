"""`JobGraph.order` and `dependents`: the same answers as one heap of ready jobs, on graphs of every shape."""

from __future__ import annotations

import heapq
import random

import pytest

from hypermetric.plan import graph as graph_module
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job


def job(job_id: str, deps: tuple[str, ...] = ()) -> Job:
    return Job(id=job_id, name=job_id, case=(), full_case=(), relpath=job_id, workdir=f"/o/{job_id}", script="",
               variables=(), outputs=(), deps=tuple(sorted(deps)))


def reference_order(jobs: dict[str, Job]) -> list[str]:
    """Kahn's algorithm with every ready job in one heap, smallest id first."""
    indegree = {i: len(j.deps) for i, j in jobs.items()}
    dependents: dict[str, list[str]] = {i: [] for i in jobs}
    for j in jobs.values():
        for d in j.deps:
            dependents[d].append(j.id)
    ready = [i for i, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        current = heapq.heappop(ready)
        out.append(current)
        for nxt in dependents[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    return out


def random_dag(seed: int) -> dict[str, Job]:
    rng = random.Random(seed)
    names = [f"j{rng.randrange(10_000):04d}" for _ in range(rng.randrange(1, 80))]
    names = list(dict.fromkeys(names))
    rng.shuffle(names)  # deps point only backwards in this list: no cycle, ids in no particular order
    jobs = {}
    for i, name in enumerate(names):
        fan_in = rng.choice([0, 0, 1, 2, 5, i])
        jobs[name] = job(name, tuple(rng.sample(names[:i], min(fan_in, i))))
    return jobs


@pytest.mark.parametrize("chunk", [2, 3, 512])
@pytest.mark.parametrize("seed", range(150))
def test_order_and_dependents_match_one_heap_of_ready_jobs(seed, chunk, monkeypatch):
    monkeypatch.setattr(graph_module, "_CHUNK", chunk)  # roots are taken in chunks: every size gives one order
    jobs = random_dag(seed)
    graph = JobGraph(dict(jobs))
    assert graph.order() == reference_order(jobs)
    dependents = graph.dependents()
    for i in jobs:
        assert dependents[i] == sorted(j.id for j in jobs.values() if i in j.deps)


def test_a_job_ready_later_goes_before_larger_roots():
    jobs = {j.id: j for j in [job("a"), job("b", ("a",)), job("c"), job("z", ("b", "c")), job("y")]}
    assert JobGraph(jobs).order() == ["a", "b", "c", "y", "z"] == reference_order(jobs)
