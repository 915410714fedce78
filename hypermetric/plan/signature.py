"""Job signatures: a short hash of everything that determines a job's outputs, and what it was built from.

A signature covers the job's identity (id and output files), its script after every decorator layer (with trailing
whitespace and blank lines dropped, so reformatting does not count), every argument's value, and for each input:
the upstream job's signature (a task output), the entries of a reduction with their signatures, or the content of
a plain input file (a directory by its listing). Absolute paths of inputs are left out, since the upstream
signatures cover them; moving the output root therefore changes nothing.

`built_from` keeps those components, compactly and JSON-ready, so that a later planning can say which one differs.
Hashing a plain input file is the only costly step: a file whose size and mtime match a recorded fingerprint
(`hint`) reuses the recorded hash, and each file is hashed at most once per process. Signatures are computed
lazily, each job once, dependencies first, without recursion. A job whose digest alone is asked for (a done job,
to compare with its record) is not built where plan/signature_fast.py covers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from hypermetric.errors import CycleError
from hypermetric.model.case import DEFAULT_DIRNAME
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import LOCAL, DecoratorLayer, InputLink, Job
from hypermetric.plan.planned import PlannedJobs
from hypermetric.plan.signature_fast import FastDigests
from hypermetric.plan.signature_files import MISSING, listing
from hypermetric.plan.signature_files import hash_file as _hash_file  # (by this name: tests count the calls)
from hypermetric.plan.signature_fingerprint import NONE
from hypermetric.plan.signature_learned import LearnedDigests
from hypermetric.plan.signature_record import (
    Signature,
    digest,
    encode,
    layered_script,
    normalize_script,
    script_text,
    upstream_label,
)

__all__ = ["MISSING", "Signature", "Signer", "digest", "normalize_script", "script_text"]


Hints = Callable[[Job], "Mapping[str, Any] | None"]


class Signer:
    """Signatures of the jobs of one graph. `hints(job)` returns the job's recorded `built_from` (or None):
    its file fingerprints spare re-hashing files that have not changed."""

    def __init__(self, graph: JobGraph, hints: Hints | None = None) -> None:
        self.graph = graph
        self._hints = hints
        self._memo: dict[str, Signature] = {}
        self._digests: dict[str, str] = {}
        self._learned: LearnedDigests | None = None  # digests learnt in a status pass, by position (compact)
        self._scripts: dict[tuple[str, tuple[DecoratorLayer, ...]], str] = {}
        self._by_workdir: dict[str, str] | None = None
        self._files: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, hash)
        self._root = graph.root.rstrip("/") + "/"
        self._hinted: Job | None = None
        self._computing: set[str] = set()  # jobs whose signature is being computed (see `_value`)
        jobs = graph.jobs
        self._fast: Callable[[str], str | None] = lambda _: None  # a digest without building the job, if covered
        self._needs: Mapping[str, tuple[str, ...]] | None = None  # of a planned graph: who has deps at all
        self.task_fingerprint: Callable[[str], int] = lambda _: NONE  # of a job's task (signature_fingerprint)
        self._full: set[str] = set()  # jobs whose digest is not the fast one, or is made from such a digest
        if isinstance(jobs, PlannedJobs):
            fast = FastDigests(jobs, graph.root, self.digest)
            self._fast, self._needs, self.task_fingerprint = fast.digest, jobs.needs, fast.fingerprint

    def signature(self, job_id: str) -> Signature:
        """The planned signature of a job of the graph (its upstream jobs' digests first), kept."""
        found = self._memo.get(job_id)
        if found is None:
            self._upstream_digests(job_id)
            found = self._memo[job_id] = self._compute(self.graph.jobs[job_id])
            self._digests[job_id] = found.digest
            self._full.add(job_id)
        return found

    def digest(self, job_id: str, index: int = -1) -> str:
        """The planned signature's digest: all that is kept of a job whose full signature nobody asked for (a
        done job's `built_from` is needed only to explain a change). `index`: the job's place in the order of
        the status pass under way, where a digest is kept in a few bytes (see `learner`) rather than by id."""
        found = self.known_digest(job_id)
        if found is not None:
            return found
        if self._needs is None or job_id in self._needs:  # (a job without deps has no upstream digests)
            self._upstream_digests(job_id)
        found, learned = self._planned(job_id), self._learned
        if learned is not None and 0 <= index < len(learned.order) and learned.order[index] == job_id:
            learned.learn(index, job_id, found)
        else:
            self._digests[job_id] = found
        return found

    def _planned(self, job_id: str) -> str:
        """The job's digest, its upstream jobs' known: the fast one where it is covered."""
        found, full = self._fast(job_id), self._full
        if found is None:
            full.add(job_id)
            return self._compute(self.graph.jobs[job_id]).digest
        if full and self._needs is not None and not full.isdisjoint(self._needs.get(job_id, ())):
            full.add(job_id)
        return found

    def reusable(self, job_id: str) -> int:
        """The fingerprint of the job's task when its computed digest is a function of that and its id alone
        (the fast one, made from upstream digests made so), else NONE: under it, the digest may be kept."""
        return NONE if job_id in self._full or not self._has(job_id) else self.task_fingerprint(job_id)

    def learn(self, job_id: str, digest: str) -> None:
        """The job's planned digest, known without computing it (kept by the status cache, see `reusable`)."""
        if not self._has(job_id):
            self._digests[job_id] = digest

    def learner(self, order: Sequence[str]) -> Callable[[int, str, str], None]:
        """`learn` of the job at a position of `order` (a status pass's): kept in a few bytes, not by id."""
        if self._learned is None:
            self._learned = LearnedDigests(order)
        return self._learned.learn if self._learned.order is order else lambda _, i, d: self.learn(i, d)

    def learnt(self, order: Sequence[str], start: int, stop: int) -> list[str | None]:
        """`known_digest` of the jobs at positions `start` to `stop` of `order` where a pass over it learnt them."""
        found = self._learned
        return found.block(start, stop) if found is not None and found.order is order else [None] * (stop - start)

    def _has(self, job_id: str) -> bool:
        return job_id in self._digests or (self._learned is not None and job_id in self._learned)

    def known_digest(self, job_id: str, index: int = -1) -> str | None:
        """The job's digest if it is kept (`known` without making a `Signature`); `index`: its place in the order
        of the status pass that learnt it, if known (it is then not looked for)."""
        found = self._digests.get(job_id)
        return found if found is not None or self._learned is None else self._learned.get(job_id, index)

    def forget(self, keep: Collection[str]) -> None:
        """Let go of what is kept of every job but those in `keep` (a done job's digest, once its dependents
        have theirs): a job forgotten is computed again if it is asked for."""
        memo, known = self._memo, self.known_digest
        self._digests, self._learned = {i: d for i in keep if (d := known(i)) is not None}, None
        self._memo = {i: s for i in keep if (s := memo.get(i)) is not None}
        self._full = {i for i in keep if i in self._full}
        self._by_workdir = None

    def _upstream_digests(self, job_id: str) -> None:
        """Compute the digests of every job upstream of `job_id`, dependencies first, without recursion."""
        jobs, digests, has = self.graph.jobs, self._digests, self._has
        needs = self._needs
        deps = self.graph.deps if needs is None else lambda i: needs.get(i, ())  # without building jobs
        stack = [d for d in deps(job_id) if not has(d) and d in jobs]
        while stack:
            current = stack[-1]
            if has(current):
                stack.pop()
                continue
            missing = [d for d in deps(current) if not has(d) and d in jobs]
            if missing:
                stack.extend(missing)
                continue
            digests[current] = self._planned(current)
            stack.pop()

    def script_hash(self, job: Job) -> str:
        key = (job.script, job.decorators)
        found = self._scripts.get(key)
        if found is None:
            found = self._scripts[key] = digest(layered_script(job.script, job.decorators).encode())
        return found

    def known(self, job_id: str) -> Signature | None:
        """The signature of a job, if it has been computed; of a job whose digest alone was kept, that digest
        with an empty `built_from`."""
        found = self._memo.get(job_id)
        if found is None and (digest := self.known_digest(job_id)) is not None:
            return Signature(digest, {})
        return found

    def _compute(self, job: Job) -> Signature:
        if job.id in self._computing:  # only values naming outputs can lead back: dependencies have no cycles
            raise CycleError(f"job {job.label} would be built from its own outputs: a value names the output "
                             "of a job that is built from it",
                             help="pass outputs as inputs (`$task.output`), or remove the value that closes the "
                                  "cycle")
        self._computing.add(job.id)
        try:
            return self._record(job)
        finally:
            self._computing.discard(job.id)

    def _record(self, job: Job) -> Signature:
        self._hinted = job  # its recorded file fingerprints are read only if it has a plain input file
        links = {link.name: link for link in job.inputs}
        outputs = dict(job.outputs)
        values: dict[str, str] = {}
        inputs: dict[str, list[str]] = {}
        layered = set()  # a decorator's argument also reaches the task's variables: name it once, by its layer
        for layer in job.decorators:
            for name, value in layer.variables:
                layered.add((name, value))
                if name not in links:
                    self._value(job.id, f"{layer.name}.{name}", value, values, inputs)
        for name, value in job.variables:
            if name not in outputs and name not in links and (name, value) not in layered:
                self._value(job.id, name, value, values, inputs)
        entries: dict[str, dict[str, str]] = {}
        files: dict[str, list[Any]] = {}
        for link in job.inputs:
            self._link(link, inputs, entries, files)
        script = self.script_hash(job)
        built = {"script": script, "values": values, "inputs": inputs, "entries": entries, "files": files}
        return Signature(digest(encode(job.id, script, job.outputs, built).encode()), built)

    def _value(self, job_id: str, name: str, value: str, values: dict[str, str],
               inputs: dict[str, list[str]]) -> None:
        """A plain value, or a path to an upstream job's output passed as a value; a path into the job's own
        directory is a plain value (a job is not its own upstream)."""
        up = self._upstream(value) if value.startswith(self._root) else None
        if up is None or up == job_id:
            values[name] = value
        else:
            inputs[name] = [upstream_label(self.graph.jobs[up], value), self.digest(up)]

    def _link(self, link: InputLink, inputs: dict, entries: dict, files: dict) -> None:
        if link.is_reduction:
            found = {}
            for entry in link.entries:
                up = self._upstream(entry.target)
                found[entry.name] = self.digest(up) if up is not None else entry.target
            entries[link.name] = found
            return
        if link.target is None:
            return
        up = self._upstream(link.target)
        if up is not None:
            inputs[link.name] = [upstream_label(self.graph.jobs[up], link.target), self.digest(up)]
        elif link.source_fs != LOCAL or "://" in link.target:
            files[link.name] = [link.target, 0, 0, f"{link.source_fs}:{link.target}"]
        else:
            if self._hinted is not None and self._hints is not None and link.target not in self._files:
                hint = self._hints(self._hinted)  # read once per job, and only for a file not known yet
                self._learn((hint or {}).get("files") or {})
                self._hinted = None
            files[link.name] = self.fingerprint(link.target)

    def _upstream(self, path: str) -> str | None:
        """The id of the graph's job whose directory holds `path`, if any (not built: a reduction's entries
        need only their digests)."""
        # Most often a file right in a job's directory (no job directory ends with a slash, so this is what
        # the walk below finds first), once for each entry of a reduction: named from the directory.
        job_id = self._job_in(path.rpartition("/")[0])
        if job_id is not None:
            return job_id
        if self._by_workdir is None:  # by id: a planned graph's jobs are not built for this
            workdir = self.graph.workdir
            self._by_workdir = {workdir(i): i for i in self.graph.jobs}
        head = os.path.dirname(path)
        while len(head) >= len(self._root):
            job_id = self._by_workdir.get(head)
            if job_id is not None:
                return job_id
            parent = os.path.dirname(head)
            if parent == head:
                return None
            head = parent
        return None

    def _job_in(self, head: str) -> str | None:
        """The job whose directory is `head`, found by the id its directory names (`<task path>/<case>`);
        None when that is no job's directory (a case string too long for a file name is hashed)."""
        if not head.startswith(self._root):
            return None
        task, _, case = head[len(self._root):].rpartition("/")
        job_id = task if case == DEFAULT_DIRNAME else f"{task}?{case}"
        if job_id in self.graph.jobs and self.graph.workdir(job_id) == head:
            return job_id
        return None

    def _learn(self, files: Mapping[str, Any]) -> None:
        for item in files.values():
            if isinstance(item, list) and len(item) == 4 and item[0] not in self._files:
                self._files[item[0]] = (item[1], item[2], item[3])

    def fingerprint(self, path: str) -> list[Any]:
        """`[path, size, mtime_ns, hash]`: the content hash is computed only when size or mtime changed."""
        try:
            st = os.stat(path)
        except OSError:
            return [path, -1, 0, MISSING]
        if os.path.isdir(path):
            return [path, -1, 0, listing(path)]
        known = self._files.get(path)
        if known is not None and known[0] == st.st_size and known[1] == st.st_mtime_ns:
            return [path, st.st_size, st.st_mtime_ns, known[2]]
        content = _hash_file(path)
        self._files[path] = (st.st_size, st.st_mtime_ns, content)
        return [path, st.st_size, st.st_mtime_ns, content]

