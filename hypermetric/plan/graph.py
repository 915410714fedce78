"""`JobGraph`: the jobs the targets imply, their dependencies, and a deterministic topological order."""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field

from hypermetric.plan.job import Job
from hypermetric.plan.planned import PlannedJobs


class Dependents(defaultdict[str, list[str]]):
    """Job id -> ids of the jobs that depend on it (sorted); a job nothing depends on reads as an empty list
    (made when first asked for: most jobs of a large tensor have one dependent or none). Made as
    `Dependents(list)`."""


@dataclass
class JobGraph:
    """Jobs by id; `deps` of each job are ids inside the graph. `targets` are the ids the user asked for.

    `jobs` is a plain dict of built jobs, or the planner's `PlannedJobs`, which builds each job when first read;
    `deps`, `label` and `workdir` answer for a job id without building it."""

    jobs: MutableMapping[str, Job]
    targets: list[str] = field(default_factory=list)
    root: str = ""                                   # absolute output root
    _order: list[str] | None = field(default=None, repr=False)
    _dependents: Dependents | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self):
        return (self.jobs[i] for i in self.order())

    def deps(self, job_id: str) -> tuple[str, ...]:
        jobs = self.jobs
        return jobs.deps(job_id) if isinstance(jobs, PlannedJobs) else jobs[job_id].deps

    def label(self, job_id: str) -> str:
        jobs = self.jobs
        return jobs.label(job_id) if isinstance(jobs, PlannedJobs) else jobs[job_id].label

    def workdir(self, job_id: str) -> str:
        jobs = self.jobs
        return jobs.workdir(job_id) if isinstance(jobs, PlannedJobs) else jobs[job_id].workdir

    def needs(self) -> Mapping[str, tuple[str, ...]]:
        """Job id -> its deps, for every job that has some."""
        jobs = self.jobs
        return jobs.needs if isinstance(jobs, PlannedJobs) else {i: j.deps for i, j in jobs.items() if j.deps}

    def dependents(self) -> Dependents:
        """Job id -> ids of the jobs that depend on it (sorted; empty for a job nothing depends on)."""
        if self._dependents is None:
            out = Dependents(list)
            for job_id, deps in self.needs().items():
                for dep in deps:
                    out[dep].append(job_id)
            for lst in out.values():
                if len(lst) > 1:
                    lst.sort()
            self._dependents = out
        return self._dependents

    def order(self) -> list[str]:
        """Topological order; among ready jobs the smallest id first, so that every run of the same graph goes in
        the same order (HyperMake's order depends on hashing). Assumes no cycle (the planner checks)."""
        if self._order is None:
            needs = self.needs()
            self._order = _Ordering(needs).run(sorted([i for i in self.jobs if i not in needs]))
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


_CHUNK = 512


class _Ordering:
    """Kahn's algorithm, the smallest ready id first. The jobs ready from the start (the roots) are sorted once;
    those that become ready later go through a heap, and the smaller of the two heads goes next, as if every
    ready job were in one heap."""

    def __init__(self, needs: Mapping[str, tuple[str, ...]]) -> None:
        self.indegree = {i: len(deps) for i, deps in needs.items()}
        self.first, self.more, self.trigger = _reverse(needs)
        self.ready: list[str] = []

    def run(self, roots: list[str]) -> list[str]:
        ready, order = self.ready, []
        start, end, single_until = 0, len(roots), 0
        while start < end or ready:
            if start >= single_until:
                # The roots below the heap's head, a chunk at a time: in one go unless one of them is the last
                # dependency of some job (then that chunk goes one job at a time).
                stop = min(start + _CHUNK, bisect.bisect_left(roots, ready[0], start, end) if ready else end)
                if stop - start > 1:
                    chunk = roots[start:stop]
                    if self._release(chunk):
                        order += chunk
                        start = stop
                        continue
                    single_until = stop
            if ready and (start == end or ready[0] < roots[start]):
                current = heapq.heappop(ready)
            else:
                current = roots[start]
                start += 1
            order.append(current)
            self._done(current)
        return order

    def _done(self, job_id: str) -> None:
        for nxt in self.trigger.get(job_id, ()):
            heapq.heappush(self.ready, nxt)
        one = self.first.get(job_id)
        if one is None:
            return
        indegree = self.indegree
        for nxt in (one, *self.more.get(job_id, ())):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(self.ready, nxt)

    def _release(self, chunk: list[str]) -> bool:
        """Count the jobs of `chunk` done for their dependents, unless that makes any dependent ready (then
        nothing is counted)."""
        if not self.trigger.keys().isdisjoint(chunk) or (self.more and not self.more.keys().isdisjoint(chunk)):
            return False
        counts = Counter(filter(None, map(self.first.get, chunk)))
        indegree = self.indegree
        if any(indegree[job] <= n for job, n in counts.items()):
            return False
        for job, n in counts.items():
            indegree[job] -= n
        return True


def _reverse(needs: Mapping[str, tuple[str, ...]]) -> tuple[dict[str, str], dict[str, list[str]],
                                                         dict[str, list[str]]]:
    """Who waits for each job: (one dependent, the others) counted down as jobs come out, and, for a job whose
    deps are all roots, its largest dep, after which it is ready: the roots come out in sorted order, so a
    reduction over a whole tensor costs one entry, not one per input."""
    first: dict[str, str] = {}
    more: dict[str, list[str]] = {}
    trigger: dict[str, list[str]] = {}
    for job_id, deps in needs.items():
        if needs.keys().isdisjoint(deps):
            trigger.setdefault(max(deps), []).append(job_id)
            continue
        for dep in deps:
            if first.setdefault(dep, job_id) != job_id:
                more.setdefault(dep, []).append(job_id)
    return first, more, trigger
