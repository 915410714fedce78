"""The status cache keeps, with a done job's recorded signature, the fingerprint of its task under which that
signature was found equal to the planned one; a later pass with the same fingerprint does not compute the
digest. Every status and OUTDATED reason stays that of a pass without the cache, on random pipelines, after
each kind of change; and a pass over an unchanged, done pipeline computes no digest of a done job."""

from __future__ import annotations

import os
import random
import shutil
import time

import pytest
from plan.test_signature_fast import Random
from semantics.helpers import load

from hypermetric import api
from hypermetric.execution.protocol import JobOptions, _record
from hypermetric.plan import signature_fast
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.signature import Signer
from hypermetric.record import replace
from hypermetric.store import statuscache
from hypermetric.store.layout import STATUS_CACHE
from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus

CHANGES = ["nothing", "script", "value", "define", "input file", "re-run", "re-run changed", "job.json",
           "exitcode", "output"]


@pytest.fixture(autouse=True)
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passes trust files changed up to a minute after they start, so that files just written are cached."""
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)


def _all_done(graph: JobGraph) -> None:
    """Every job of the graph as a successful run leaves it, with its planned signature."""
    signer = Signer(graph)
    now = time.time()
    for job_id in graph.order():
        job = graph.jobs[job_id]
        signature = signer.signature(job_id)
        os.makedirs(job.workdir, exist_ok=True)
        for _, rel in job.outputs:
            os.makedirs(os.path.dirname(os.path.join(job.workdir, rel)), exist_ok=True)
            with open(os.path.join(job.workdir, rel), "w") as f:
                f.write("x\n")
        _record(replace(job, signature=signature.digest, built_from=signature.built_from),
                JobOptions(), 0, 1, now, now)


def _past_tick(root: str) -> None:
    """Return once the file system's clock has moved past the ctime of every file below `root`, so that a
    file changed afterwards has a new ctime (synchronised on a probe file's own ctime)."""
    newest = max(os.stat(os.path.join(d, f)).st_ctime_ns for d, _, files in os.walk(root) for f in files)
    probe = os.path.join(os.path.dirname(root), "probe")
    for _ in range(1_000_000):  # bounds only a failure: a tick of the clock takes milliseconds
        with open(probe, "w") as f:
            f.write("x")
        if os.stat(probe).st_ctime_ns > newest:
            return
    raise AssertionError("the file system's clock did not move")


def _states(path: str, targets: list[str], defines: dict[str, str] | None = None) -> dict:
    pipeline = api.load(path, defines=defines, cwd=os.path.dirname(path))
    return Staleness(api.plan(pipeline, targets)).states()


def _uncached(root: str, path: str, targets: list[str], defines: dict[str, str] | None = None) -> dict:
    shutil.rmtree(os.path.join(root, STATUS_CACHE), ignore_errors=True)
    return _states(path, targets, defines)


def _rewrite(path: str, text: str) -> None:
    """Write a file anew (a new inode), as a job that runs again writes its record."""
    os.unlink(path)
    with open(path, "w") as f:
        f.write(text)


def _in_place(path: str, text: str) -> None:
    with open(path, "r+") as f:
        f.write(text)
        f.truncate()


def _change(kind: str, rng: random.Random, gen: Random, graph: JobGraph, tmp_path) -> tuple[str, dict]:
    """Make one change of `kind`; returns the new source and the `-D` overrides to load it with."""
    lines = list(gen.lines)
    job = graph.jobs[rng.choice(graph.order())]
    record = os.path.join(job.workdir, "job.json")
    if kind == "script":
        scripted = [i for i, line in enumerate(lines) if line.startswith(("task ", "@")) and "echo $a" in line]
        i = rng.choice(scripted)
        lines[i] = lines[i].replace("echo $a", "echo changed $a")
    elif kind in ("value", "define"):  # a value's first string changed, by its definition or by `-D`
        name = f"v{rng.randint(0, 2)}"
        i = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
        changed = lines[i].replace('"', '"changed ', 1)
        if kind == "define":
            return "\n".join(lines) + "\n", {name: changed.split(" = ", 1)[1]}
        lines[i] = changed
    elif kind == "input file":
        for path in (tmp_path / "files" / "in.txt", tmp_path / "out" / "data.txt"):
            path.write_text("changed")
    elif kind in ("re-run", "re-run changed"):
        text = open(record).read()
        if kind == "re-run changed":
            text = text.replace(text[15:35], "0123456789abcdef0123")
        _rewrite(os.path.join(job.workdir, "exitcode"), "0")
        _rewrite(record, text)
    elif kind == "job.json":
        text = open(record).read()
        _in_place(record, text.replace(text[15:35], "0123456789abcdef0123"))
    elif kind == "exitcode":
        _in_place(os.path.join(job.workdir, "exitcode"), "1")
    elif kind == "output":
        os.unlink(os.path.join(job.workdir, job.outputs[0][1]))
    return "\n".join(lines) + "\n", {}


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("seed", range(6))
def test_each_kind_of_change_gives_the_statuses_of_no_cache(tmp_path, seed, kind) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "in.txt").write_text("content")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "data.txt").write_text("data")
    gen = Random(seed, str(tmp_path / "out"), str(files))
    pipeline = load(tmp_path, gen.source())
    targets = gen.targets()
    graph = api.plan(pipeline, targets)
    _all_done(graph)
    path, root = str(tmp_path / "main.hm"), str(tmp_path / "out")
    first = _states(path, targets)  # writes the cache and what it confirms
    assert _states(path, targets) == first  # with the cache holding signatures as the planned ones
    assert {s for s, _ in first.values()} == {JobStatus.COMPLETE}
    rng = random.Random(seed)
    _past_tick(root)
    source, defines = _change(kind, rng, gen, graph, tmp_path)
    with open(path, "w") as f:
        f.write(source)
    warm = _states(path, targets, defines)
    assert warm == _uncached(root, path, targets, defines), kind
    if kind != "nothing":  # the change shows (a changed input file is read by some pipelines only)
        assert warm != first or kind in ("input file", "re-run", "value", "define"), kind


SWEEP = """\
a = {A: %s}
b = {B: %s}
task t(a=$, b=$) -> out:
  echo $a $b > $out
task r(x=$t[B: *].out) -> out:
  cat $x/* > $out
task s(y=$r.out, a=$) -> out:
  cat $y > $out
"""


def _sweep(tmp_path, a: int, b: int) -> str:
    path = tmp_path / "main.hm"
    path.write_text(SWEEP % (" ".join(map(str, range(a))), " ".join(map(str, range(b)))))
    return str(path)


@pytest.mark.parametrize("change", ["added A", "removed A", "added B", "removed B", "t script", "s script"])
def test_axis_keys_and_upstream_scripts_give_the_statuses_of_no_cache(tmp_path, change) -> None:
    path = _sweep(tmp_path, 4, 5)
    targets = ["s[A: *]"]
    _all_done(api.plan(api.load(path, cwd=str(tmp_path)), targets))
    first = _states(path, targets)
    _states(path, targets)
    _past_tick(str(tmp_path / "out"))
    a, b = {"added A": 5, "removed A": 3}.get(change, 4), {"added B": 6, "removed B": 4}.get(change, 5)
    text = open(_sweep(tmp_path, a, b)).read()
    if change.endswith("script"):
        task = change[0]
        text = text.replace(f"task {task}(", f"task {task}(z=1, ")
    with open(path, "w") as f:
        f.write(text)
    warm = _states(path, targets)
    assert warm == _uncached(str(tmp_path / "out"), path, targets)
    assert warm != first


def _count_digests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    computed: list[str] = []
    real = signature_fast.FastDigests.digest

    def digest(self, job_id: str) -> str | None:
        computed.append(job_id)
        return real(self, job_id)
    monkeypatch.setattr(signature_fast.FastDigests, "digest", digest)
    return computed


def test_an_unchanged_done_pipeline_computes_no_digest(tmp_path, monkeypatch) -> None:
    """The old pass computed each done job's digest (and each reduction's over every entry) every time."""
    path = _sweep(tmp_path, 6, 7)
    targets = ["s[A: *]"]
    _all_done(api.plan(api.load(path, cwd=str(tmp_path)), targets))
    computed = _count_digests(monkeypatch)
    _states(path, targets)  # writes the cache, confirming every signature
    assert len(computed) == 6 * 7 + 6 + 6
    computed.clear()
    states = _states(path, targets)
    assert computed == [] and {s for s, _ in states.values()} == {JobStatus.COMPLETE}
    os.unlink(os.path.join(str(tmp_path / "out"), "t", "A=2&B=3", "out"))  # one job not done
    computed.clear()
    states = _states(path, targets)
    assert states["t?A=2&B=3"][0] is JobStatus.FAILED and states["r?A=2"][0] is JobStatus.OUTDATED
    assert computed == []  # its dependents are OUTDATED by their input, with no digest either


def test_a_changed_task_computes_the_digests_of_its_own_jobs_only(tmp_path, monkeypatch) -> None:
    path = _sweep(tmp_path, 6, 7)
    targets = ["s[A: *]"]
    _all_done(api.plan(api.load(path, cwd=str(tmp_path)), targets))
    _states(path, targets)
    _states(path, targets)
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text.replace("cat $y >", "cat  $y 2>&1 >"))
    computed = _count_digests(monkeypatch)
    states = _states(path, targets)
    assert sorted(computed) == sorted(f"s?A={i}" if i else "s" for i in range(6))
    assert {states[i][0] for i in computed} == {JobStatus.OUTDATED}
