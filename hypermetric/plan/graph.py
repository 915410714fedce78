"""`JobGraph`: the jobs the targets imply, their dependencies, and a deterministic topological order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from hypermetric.plan.job import Job


@dataclass
class JobGraph:
    """Jobs by id; `deps` of each job are ids inside the graph. `targets` are the ids the user asked for."""

    jobs: dict[str, Job]
    targets: list[str] = field(default_factory=list)
    root: str = ""                                   # absolute output root
    _order: list[str] | None = field(default=None, repr=False)
    _dependents: dict[str, list[str]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self):
        return (self.jobs[i] for i in self.order())

    def dependents(self) -> dict[str, list[str]]:
        """Job id -> ids of the jobs that depend on it (sorted)."""
        if self._dependents is None:
            out: dict[str, list[str]] = {i: [] for i in self.jobs}
            for job in self.jobs.values():
                for dep in job.deps:
                    out[dep].append(job.id)
            for lst in out.values():
                lst.sort()
            self._dependents = out
        return self._dependents

    def order(self) -> list[str]:
        """Topological order; among ready jobs the smallest id first, so that every run of the same graph goes in
        the same order (HyperMake's order depends on hashing). Assumes no cycle (the planner checks)."""
        if self._order is None:
            indegree = {i: len(j.deps) for i, j in self.jobs.items()}
            ready = [i for i, d in indegree.items() if d == 0]
            heapq.heapify(ready)
            dependents = self.dependents()
            order: list[str] = []
            while ready:
                current = heapq.heappop(ready)
                order.append(current)
                for nxt in dependents[current]:
                    indegree[nxt] -= 1
                    if indegree[nxt] == 0:
                        heapq.heappush(ready, nxt)
            self._order = order
        return self._order

    def downstream(self, ids: Iterable[str]) -> set[str]:
        """The given ids and every job that transitively depends on them."""
        dependents = self.dependents()
        seen: set[str] = set()
        stack = [i for i in ids if i in self.jobs]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(dependents[current])
        return seen
