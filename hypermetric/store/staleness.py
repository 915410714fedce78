"""Staleness: which finished jobs are OUTDATED, and why; getting a graph ready to run with signatures.

A finished job (HyperMake's rule: `exitcode` 0 and every output present) is OUTDATED when the signature
recorded in its `job.json` differs from the one planned now (plan/signature.py), or when an upstream job it
reads from is not finished or is itself OUTDATED: its outputs were made from something that is no longer
there. A finished job without a recorded signature (made by HyperMake, by `touch`, or by an older version)
is judged by its upstream jobs only, as HyperMake would judge it; its signature is recorded when it next runs.
Only finished jobs have their `job.json` read, so planning a fresh tensor costs nothing more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.signature import MISSING, Signer
from hypermetric.store.layout import JOB_JSON
from hypermetric.store.mutations import invalidate
from hypermetric.store.status import JobStatus, statuses_by_id

State = tuple[JobStatus, "str | None"]
_MAX_REASONS = 3
_MAX_VALUE = 40


_HEAD = b'{"signature": "'  # the job protocol writes the signature first, so it is read without parsing
_HEAD_SIZE = 256  # far more than the head and a signature


def _read_bytes(workdir: str) -> bytes | None:
    try:
        fd = os.open(os.path.join(workdir, JOB_JSON), os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read_head(workdir: str) -> bytes | None:
    """The first bytes of `job.json`: enough for the signature the job protocol writes first."""
    try:
        fd = os.open(f"{workdir}/{JOB_JSON}", os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, _HEAD_SIZE)
    except OSError:
        return None
    finally:
        os.close(fd)


def _parse(data: bytes | None) -> dict[str, Any] | None:
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def read_record(workdir: str) -> dict[str, Any] | None:
    """The job's `job.json` as a dict, or None when it is absent or unreadable."""
    return _parse(_read_bytes(workdir))


def _signature_of(data: bytes | None) -> str | None:
    """The recorded signature at the head of `job.json`, if there is one."""
    if not data or not data.startswith(_HEAD):
        return None
    end = data.find(b'"', len(_HEAD))
    return data[len(_HEAD):end].decode("ascii", "replace") if end > 0 else None


class Staleness:
    """The status of each job of a graph, with OUTDATED and its reason (see the module docstring).

    A large tensor is mostly done jobs, so a done job costs as little as can be: its `exitcode` and outputs
    are checked (store/status.py), the head of its `job.json` is read (the signature comes first), and its
    planned digest is computed and compared; nothing of it is kept but its digest (upstream signatures go
    into their dependents'). Only the jobs that are not COMPLETE are remembered by status."""

    def __init__(self, graph: JobGraph) -> None:
        self.graph = graph
        self.signer = Signer(graph, self._hint)
        self._unfinished: dict[str, JobStatus] = {}  # every job seen that is not COMPLETE

    def _hint(self, job: Job) -> Mapping[str, Any] | None:
        record = read_record(job.workdir)
        return record.get("built_from") if record else None

    def states(self) -> dict[str, State]:
        """Job id -> (status, reason), in the graph's order; the reason is set for OUTDATED jobs."""
        plain = {status: (status, None) for status in JobStatus}  # one tuple shared by a million PENDING jobs
        return {job_id: plain[status] if reason is None else (status, reason)
                for job_id, status, reason in self.each()}

    def each(self) -> Iterator[tuple[str, JobStatus, str | None]]:
        """(job id, status, reason) of every job in the graph's order, without keeping them."""
        graph = self.graph
        order = graph.order()
        jobs = graph.jobs
        unfinished = self._unfinished
        for job_id, status in zip(order, statuses_by_id(order, graph.workdir, jobs.__getitem__)):
            reason = None
            if status is JobStatus.COMPLETE:
                reason = self._reason(jobs[job_id])
                if reason is not None:
                    status = unfinished[job_id] = JobStatus.OUTDATED
            else:
                unfinished[job_id] = status
            yield job_id, status, reason

    def _reason(self, job: Job) -> str | None:
        head = _read_head(job.workdir)
        recorded = _signature_of(head)
        if recorded is None and head is not None and len(head) == _HEAD_SIZE:
            recorded = _signature_of(_read_bytes(job.workdir))  # a head longer than expected: read it all
        if recorded:
            planned = self.signer.digest(job.id)
            if planned != recorded:
                record = read_record(job.workdir) or {}
                signature = self.signer.signature(job.id)
                return explain(record.get("built_from"), signature.built_from) or "signature changed"
        unfinished = self._unfinished
        for dep in job.deps:
            status = unfinished.get(dep)
            if status is None or dep in job.after:
                continue  # COMPLETE (every dep comes earlier in the order), or not in the graph
            upstream = self.graph.jobs[dep]
            if not upstream.ephemeral:
                word = "outdated" if status is JobStatus.OUTDATED else "missing"
                return f"input {input_label(job, upstream)} {word}"
        return None


@dataclass
class Prepared:
    """What `prepare_run` found: the jobs not done (all others are), and the signer, which knows the
    signature of every job whose status needed one. Only the jobs to run are kept by id: a done job costs
    nothing here."""

    graph: JobGraph
    not_done: set[str]
    signer: Signer

    def is_done(self, job: Job) -> bool:
        return job.id not in self.not_done and job.id in self.graph.jobs


def prepare_run(graph: JobGraph, *, ignore_changes: bool = False) -> Prepared:
    """Give every job of `graph` that may run its planned signature (recorded when it succeeds) and, unless
    `ignore_changes`, mark the OUTDATED ones as not done (their `exitcode` goes; outputs stay until they
    re-run), so the run re-runs them and, through them, everything downstream."""
    staleness = Staleness(graph)
    jobs = graph.jobs
    not_done = set()
    for job_id, status, _ in staleness.each():
        if status is JobStatus.COMPLETE or (status is JobStatus.OUTDATED and ignore_changes):
            continue
        not_done.add(job_id)
        if status is JobStatus.OUTDATED:
            invalidate([jobs[job_id]])
        signature = staleness.signer.signature(job_id)
        jobs[job_id] = replace(jobs[job_id], signature=signature.digest, built_from=signature.built_from)
    return Prepared(graph, not_done, staleness.signer)


def input_label(job: Job, upstream: Job) -> str:
    """How `job` names what it reads from `upstream`: `task.output`, or the upstream job's display id."""
    prefix = upstream.workdir + "/"
    for link in job.inputs:
        targets = [e.target for e in link.entries] if link.is_reduction else [link.target or ""]
        for target in targets:
            if target.startswith(prefix):
                rel = target[len(prefix):]
                name = next((n for n, r in upstream.outputs if r == rel), rel)
                return f"{upstream.name}.{name}" if not link.is_reduction else f"{upstream.display_id}.{name}"
    return upstream.display_id


def explain(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """The reasons two `built_from` records differ, joined by `; ` (the first few); None when `old` is
    unusable or nothing differs."""
    reasons = differences(old, new)
    if reasons is None or not reasons:
        return None
    shown = reasons[:_MAX_REASONS]
    more = len(reasons) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def differences(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str] | None:
    """Every reason `old` and `new` differ, or None when `old` is not a `built_from` record."""
    if not isinstance(old, Mapping) or "script" not in old:
        return None
    reasons = ["script changed"] if old.get("script") != new.get("script") else []
    reasons += _values(old.get("values") or {}, new.get("values") or {})
    reasons += _inputs(old.get("inputs") or {}, new.get("inputs") or {})
    reasons += _entries(old.get("entries") or {}, new.get("entries") or {})
    reasons += _files(old.get("files") or {}, new.get("files") or {})
    return reasons


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE - 1] + "…"


def _values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"value {name} added: {_short(new[name])}")
        elif name not in new:
            out.append(f"value {name} removed")
        elif old[name] != new[name]:
            out.append(f"value of {name} changed: {_short(old[name])} → {_short(new[name])}")
    return out


def _inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None:
            assert after is not None  # the name came from one of the two
            out.append(f"input {after[0]} added")
        elif after is None:
            out.append(f"input {before[0]} removed")
        elif before[1] != after[1]:
            out.append(f"input {after[0]} changed")
    return out


def _entries(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name) or {}, new.get(name) or {}
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        if added or removed:
            items = [f"+{e}" for e in added] + [f"-{e}" for e in removed]
            shown = " ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")
            out.append(f"reduction entries changed: {shown}")
        changed = sorted(e for e in set(before) & set(after) if before[e] != after[e])
        if changed:
            what = f"entry {changed[0]}" if len(changed) == 1 else f"{len(changed)} entries"
            out.append(f"reduction {name}: {what} changed")
    return out


def _files(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None or after is None or before[3] != after[3]:
            either = after if after is not None else before
            assert either is not None  # the name came from one of the two
            path = display_path(either[0])
            word = "missing" if after is not None and after[3] == MISSING else "changed"
            out.append(f"input file {path} {word}")
    return out


def display_path(path: str) -> str:
    """A path relative to the current directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
