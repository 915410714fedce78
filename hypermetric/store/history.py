"""Run history: what each run did and what its jobs were made from, and what changed between two runs.

Beside a run record's `jobs` file, `run.json` holds the run's targets, start and end, its count per status and,
per job the run did not find done, its status and signature; a job that ran also keeps what it was built from
(plan/signature.py). A job found already done keeps only its signature, in the `signatures` file: a line for
each line of `jobs`, its signature (`-` when it has none) or, for a job listed in `run.json`, an empty line. A
run of a few jobs in a graph of a million done ones so writes a few bytes per done job, and `runs` reads none
of them. What a done job was built from is in the record of the run that made it, or in its `job.json`. The
scripts of the jobs that ran are kept once each, by their hash, in the run's `scripts/` folder, so `diff` can
show how a script changed. (A `run.json` that lists every job, with no `signatures` file, reads the same.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypermetric.errors import about_path
from hypermetric.model.case import dirname_of
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.signature import Signature, script_text
from hypermetric.store.done_signatures import NONE as _NONE
from hypermetric.store.done_signatures import DoneSignatures
from hypermetric.store.layout import RUN_JOBS, runs_dir
from hypermetric.store.mutations import write_atomic
from hypermetric.store.runs import parse_job_id, run_names
from hypermetric.store.staleness import differences, read_record

RUN_SUMMARY = "run.json"
SIGNATURES = "signatures"
SCRIPTS = "scripts"
_RAN = ("SUCCESS", "FAILED")
_BLOCK = 4096  # lines of `signatures` per write


def write_run_summary(record: str, graph: JobGraph, statuses: Mapping[str, str], start: float,
                      end: float, known: Callable[[str], Signature | None] = lambda _: None,
                      not_done: Container[str] = (), spooled: DoneSignatures | None = None) -> None:
    """Write `run.json` and `signatures` next to the run record's `jobs` file (`record`), and the scripts of the
    jobs that ran. `statuses` are those of the jobs the run decided about; any other job was found done (or, in
    `not_done`, was not needed: PENDING). `known` gives the signatures of jobs found done, which are never
    built here (those that ran carry theirs), unless `spooled` holds them (a line per job of the graph)."""
    folder = os.path.dirname(record)
    lines = spooled.lines() if spooled is not None else None
    listed, done = _write_signatures(os.path.join(folder, SIGNATURES), graph.order(), statuses, not_done, known,
                                     lines)
    jobs: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {"COMPLETE": done} if done else {}
    scripts: dict[str, str] = {}
    for job_id in listed:
        status = statuses.get(job_id, "PENDING")
        counts[status] = counts.get(status, 0) + 1
        jobs[job_id] = _entry(graph.jobs[job_id], status, known, scripts)
    summary = {"targets": list(graph.targets), "start": start, "end": end, "counts": counts, "jobs": jobs}
    write_atomic(os.path.join(folder, RUN_SUMMARY), json.dumps(summary, ensure_ascii=False).encode())
    store = os.path.join(folder, SCRIPTS)
    os.makedirs(store, exist_ok=True)
    for digest, text in scripts.items():
        path = os.path.join(store, digest)
        if not os.path.exists(path):
            write_atomic(path, text.encode())


def _write_signatures(path: str, order: list[str], statuses: Mapping[str, str], not_done: Container[str],
                      known: Callable[[str], Signature | None],
                      spooled: Iterator[str] | None = None) -> tuple[list[str], int]:
    """Write `signatures` (through a temporary sibling, so it is whole or absent); returns the ids that go to
    `run.json` instead, in order, and how many jobs were found done. Written a block of lines at a time: a
    million done jobs cost one `write` per thousands of them. `spooled`: the done jobs' lines, one per job."""
    listed: list[str] = []
    tmp = f"{path}.tmp-{os.getpid()}"
    if spooled is None:
        spooled = (getattr(known(job_id), "digest", "") or _NONE for job_id in order)
    try:
        with about_path(path), open(tmp, "w", encoding="utf-8") as f:
            for start in range(0, len(order), _BLOCK):
                lines = []
                for job_id, line in zip(order[start:start + _BLOCK], spooled):
                    if job_id in statuses or job_id in not_done:
                        listed.append(job_id)
                        lines.append("")
                    else:
                        lines.append(line)
                f.write("\n".join(lines) if not start else "\n" + "\n".join(lines))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)  # a failed write (a full disk) leaves no temporary file behind
        raise
    return listed, len(order) - len(listed)


def _entry(job: Job, status: str, known: Callable[[str], Signature | None],
           scripts: dict[str, str]) -> dict[str, Any]:
    """A job's entry in `run.json`; the script of a job that ran goes to `scripts`, by its hash."""
    entry: dict[str, Any] = {"status": status}
    signature = job.signature or getattr(known(job.id), "digest", "")
    if signature:
        entry["signature"] = signature
        if status in _RAN and job.built_from is not None:
            entry["built_from"] = job.built_from
            if job.built_from["script"] not in scripts:
                scripts[job.built_from["script"]] = script_text(job)
    return entry


@dataclass
class RunInfo:
    """One recorded run: its folder name, and `run.json` (None for a run that did not finish writing it)."""

    name: str
    folder: str
    summary: dict[str, Any] | None = None
    job_count: int = 0
    _jobs: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def jobs(self) -> dict[str, Any]:
        """Job id -> its entry (status, signature, maybe what it was built from); the jobs found done are read
        from `signatures` on first use."""
        if self._jobs is None:
            listed = (self.summary or {}).get("jobs") or {}
            self._jobs = _done_jobs(self.folder) if self.summary is not None else {}
            self._jobs.update(listed)
        return self._jobs


def list_runs(root: str) -> list[RunInfo]:
    """Every run recorded under `root`, oldest first."""
    base = runs_dir(root)
    return [_load(os.path.join(base, name), name) for name in run_names(root)]


def _load(folder: str, name: str) -> RunInfo:
    info = RunInfo(name, folder)
    try:
        with open(os.path.join(folder, RUN_SUMMARY), "rb") as f:
            data = json.loads(f.read())
        info.summary = data if isinstance(data, dict) else None
    except (OSError, ValueError):
        pass
    counts = (info.summary or {}).get("counts")
    if isinstance(counts, dict):
        info.job_count = sum(n for n in counts.values() if isinstance(n, int))
    elif info.summary is not None:
        info.job_count = len(info.jobs)
    else:
        try:
            with open(os.path.join(folder, RUN_JOBS), encoding="utf-8") as f:
                info.job_count = sum(1 for line in f if line.strip())
        except OSError:
            pass
    return info


def _done_jobs(folder: str) -> dict[str, Any]:
    """The entries of the jobs a run found done, from its `signatures` file beside its `jobs` file (none
    when it has no such file: a run recorded with every job in `run.json`)."""
    try:
        with open(os.path.join(folder, SIGNATURES), encoding="utf-8") as f:
            signatures = f.read().split("\n")
        with open(os.path.join(folder, RUN_JOBS), encoding="utf-8") as f:
            ids = f.read().split("\n")
    except OSError:
        return {}
    out: dict[str, Any] = {}
    for job_id, signature in zip(ids, signatures):
        if signature:
            out[job_id] = {"status": "COMPLETE"} if signature == _NONE else \
                {"status": "COMPLETE", "signature": signature}
    return out


@dataclass
class JobChange:
    """One job that differs between run A and run B: `added` (only in B), `removed` (only in A) or
    `changed` (another signature), with the reasons and, when its script changed, a unified diff."""

    job_id: str
    change: str
    reasons: list[str] = field(default_factory=list)
    script_diff: str = ""


def diff_runs(root: str, runs: list[RunInfo], a: RunInfo, b: RunInfo) -> list[JobChange]:
    """The jobs of run A and run B that differ, in id order."""
    jobs_a, jobs_b = a.jobs, b.jobs
    out = []
    for job_id in sorted(set(jobs_a) | set(jobs_b)):
        left, right = jobs_a.get(job_id), jobs_b.get(job_id)
        if left is None:
            out.append(JobChange(job_id, "added", [f"only in {b.name}"]))
        elif right is None:
            out.append(JobChange(job_id, "removed", [f"only in {a.name}"]))
        elif left.get("signature") != right.get("signature"):
            out.append(_changed(root, runs, job_id, left, right))
    return out


def _changed(root: str, runs: list[RunInfo], job_id: str, left: Mapping, right: Mapping) -> JobChange:
    old = built_from(root, runs, job_id, left)
    new = built_from(root, runs, job_id, right)
    reasons = differences(old, new) if new is not None else None
    if not reasons:
        reasons = ["signature changed" if old and new else "changed (what it was built from is not recorded)"]
    change = JobChange(job_id, "changed", reasons)
    if old and new and old.get("script") != new.get("script"):
        change.script_diff = script_diff(runs, old["script"], new["script"])
    return change


def built_from(root: str, runs: list[RunInfo], job_id: str, entry: Mapping) -> dict[str, Any] | None:
    """What a job with this run entry's signature was built from: from the entry itself, from another run
    that ran it with the same signature, or from its `job.json`."""
    if isinstance(entry.get("built_from"), dict):
        return entry["built_from"]
    signature = entry.get("signature")
    if not signature:
        return None
    for run in reversed(runs):
        other = run.jobs.get(job_id)
        if other and other.get("signature") == signature and isinstance(other.get("built_from"), dict):
            return other["built_from"]
    name, _ = parse_job_id(job_id)
    for folder in _job_dirs(root, job_id):
        record = read_record(folder)
        if record and record.get("signature") == signature and record.get("name") == name:
            return record.get("built_from")
    return None


def _job_dirs(root: str, job_id: str) -> list[str]:
    path, _, query = job_id.partition("?")
    return [os.path.join(root, path, dirname_of(query))]


def script_diff(runs: list[RunInfo], old: str, new: str) -> str:
    """A unified diff of two recorded scripts, by hash ('' when either was not kept)."""
    texts = []
    for digest in (old, new):
        text = _script(runs, digest)
        if text is None:
            return ""
        texts.append(text.splitlines())
    import difflib  # only `diff` shows scripts: every run records one, and should not pay for this import

    lines = difflib.unified_diff(texts[0], texts[1], f"script {old[:8]}", f"script {new[:8]}", lineterm="")
    return "\n".join(lines)


def _script(runs: list[RunInfo], digest: str) -> str | None:
    """A script kept by one of the runs (each keeps the scripts of the jobs it ran), newest first."""
    for run in reversed(runs):
        try:
            with open(os.path.join(run.folder, SCRIPTS, digest), encoding="utf-8") as f:
                return f.read()
        except OSError:
            continue
    return None
