"""The status cache only ever saves reading: with it warm, every way of not being done gives exactly the
statuses and reasons of a pass without it; a cache that is missing, truncated, damaged, of another format or
written at the same time by two passes changes nothing; a file changed too recently to be trusted is never
cached; and the cache stays bounded as jobs re-run."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from finished import plan, tensor, write

from hypermetric.store import statuscache
from hypermetric.store.identity import ABSENT, identity
from hypermetric.store.layout import STATUS_CACHE
from hypermetric.store.records import read_record
from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus
from hypermetric.store.statuscache import FolderCache


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passes trust files changed up to a minute after they start (as if each ran a minute later), so that
    files this test just wrote are cached."""
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)


ENTRY = 65  # bytes a job takes in the cache: its exitcode's inode, then the entry


def _cache_file(root: str) -> str:
    return os.path.join(root, "out", STATUS_CACHE, "t")


def _uncached(root: str) -> dict:
    """The states of a fresh plan read without any cache (which this pass then writes again)."""
    shutil.rmtree(os.path.join(root, "out", STATUS_CACHE), ignore_errors=True)
    return Staleness(plan(root)).states()


def _past_tick(root: str) -> None:
    """Return once the file system's clock has moved past the ctime of every file of the tensor, so that any
    change made afterwards gives a changed file a new ctime (synchronised on a probe file's own ctime)."""
    newest = max(os.stat(os.path.join(d, f)).st_ctime_ns
                 for d, _, files in os.walk(os.path.join(root, "out")) for f in files)
    probe = os.path.join(root, "probe")
    for _ in range(1_000_000):  # bounds only a failure: a tick of the clock takes milliseconds
        write(probe, "x")
        if os.stat(probe).st_ctime_ns > newest:
            return
    raise AssertionError("the file system's clock did not move")


def test_a_warm_cache_gives_the_statuses_and_reasons_of_every_way_of_not_being_done(tmp_path, trusted) -> None:
    root = str(tmp_path)
    graph = tensor(root, 20, 20)
    Staleness(plan(root)).states()  # writes the cache
    assert os.path.getsize(_cache_file(root)) > 400 * 50
    _past_tick(root)
    t = [i for i in graph.order() if i.startswith("t")]
    jobs = [graph.jobs[t[i]] for i in (0, 17, 42, 99, 123, 200, 256, 301, 333, 399)]
    no_output, failed, no_exitcode, removed, changed, unsigned, newline, touched, ten, renamed = jobs
    os.unlink(os.path.join(no_output.workdir, "out"))
    write(os.path.join(failed.workdir, "exitcode"), "1")  # in place, the same size as "0"
    os.unlink(os.path.join(no_exitcode.workdir, "exitcode"))
    shutil.rmtree(removed.workdir)
    text = open(os.path.join(changed.workdir, "job.json")).read()
    write(os.path.join(changed.workdir, "job.json"), text.replace(text[15:35], "0123456789abcdef0123"))
    write(os.path.join(unsigned.workdir, "job.json"), "{}")  # made by HyperMake or `touch`: done
    write(os.path.join(newline.workdir, "exitcode"), "0\n")
    os.utime(os.path.join(touched.workdir, "exitcode"))  # the same content: still done
    write(os.path.join(ten.workdir, "exitcode"), "10")
    os.replace(os.path.join(renamed.workdir, "out"), os.path.join(renamed.workdir, "out.old"))

    warm = Staleness(plan(root)).states()

    assert warm == _uncached(root)
    assert {warm[j.id][0] for j in (no_output, failed, ten, renamed)} == {JobStatus.FAILED}
    assert warm[no_exitcode.id][0] is warm[removed.id][0] is JobStatus.PENDING
    assert warm[changed.id] == (JobStatus.OUTDATED, "signature changed")
    assert {warm[j.id][0] for j in (unsigned, newline, touched)} == {JobStatus.COMPLETE}
    assert sum(s is JobStatus.COMPLETE for s, _ in warm.values()) == 400 - 7


def test_a_changed_built_from_is_explained_with_a_warm_cache(tmp_path, trusted) -> None:
    root = str(tmp_path)
    graph = tensor(root, 3, 3)
    Staleness(plan(root)).states()
    _past_tick(root)
    job = graph.jobs[next(i for i in graph.order() if i.startswith("t"))]
    record = read_record(job.workdir) or {}
    record["signature"] = "f" * 20
    record["built_from"]["values"]["a"] = "7"
    write(os.path.join(job.workdir, "job.json"), json.dumps(record))  # the head stays `{"signature": "`
    warm = Staleness(plan(root)).states()
    assert warm[job.id] == (JobStatus.OUTDATED, "value of a changed: 7 → 0")
    assert warm == _uncached(root)


def _damaged(data: bytes) -> list[bytes]:
    """Ways a cache file can be damaged: empty, truncated, one byte short or long, every byte of its
    entries flipped in turn at a stride, another format's header, and garbage."""
    flipped = []
    for start in range(80, 80 + ENTRY):
        copy = bytearray(data)
        for i in range(start, len(copy), ENTRY):
            copy[i] ^= 0x5A
        flipped.append(bytes(copy))
    foreign = data.replace(b"hypermetric status cache 2", b"hypermetric status cache 9")
    return [b"", data[:100], data[:-1], data + b"\0", foreign, b"\x07" * len(data), *flipped]


def test_a_damaged_cache_gives_the_statuses_of_no_cache(tmp_path, trusted) -> None:
    root = str(tmp_path)
    graph = tensor(root, 8, 8)
    t = [i for i in graph.order() if i.startswith("t")]
    Staleness(plan(root)).states()
    _past_tick(root)
    changed = graph.jobs[t[5]].workdir  # a changed signature, so that a damaged entry would show
    text = open(os.path.join(changed, "job.json")).read()
    write(os.path.join(changed, "job.json"), text.replace(text[15:35], "0123456789abcdef0123"))
    write(os.path.join(graph.jobs[t[9]].workdir, "exitcode"), "1")
    expected = _uncached(root)
    data = open(_cache_file(root), "rb").read()
    for damaged in _damaged(data):
        with open(_cache_file(root), "wb") as f:
            f.write(damaged)
        assert Staleness(plan(root)).states() == expected
    os.unlink(_cache_file(root))
    os.mkdir(_cache_file(root))  # not even a file
    assert Staleness(plan(root)).states() == expected


def test_a_file_changed_within_the_margin_is_never_cached(tmp_path) -> None:
    root = str(tmp_path)
    graph = tensor(root, 3, 3)
    Staleness(plan(root)).states()  # every file is seconds old at most: nothing is cached
    assert not os.path.exists(_cache_file(root))
    job = graph.jobs[next(i for i in graph.order() if i.startswith("t"))]
    write(os.path.join(job.workdir, "exitcode"), "1")  # maybe within the same tick: same size, same ctime
    assert Staleness(plan(root)).states()[job.id] == (JobStatus.FAILED, None)


def test_two_passes_writing_at_once_leave_a_whole_cache(tmp_path, trusted) -> None:
    root = str(tmp_path)
    tensor(root, 6, 6)
    first, second = Staleness(plan(root)).each(), Staleness(plan(root)).each()
    first_states, second_states = [next(first)], [next(second)]
    second_states += list(second)  # writes its cache while the first pass is under way
    first_states += list(first)  # writes its own over it
    assert first_states == second_states
    assert Staleness(plan(root)).states() == {i: (s, r) for i, s, r in first_states}
    data = open(_cache_file(root), "rb").read()
    assert len(data) == 80 + 36 * ENTRY and not os.listdir(os.path.dirname(_cache_file(root)))[1:]


def test_a_root_that_does_not_exist_is_not_created(tmp_path, trusted) -> None:
    root = str(tmp_path)
    tensor(root, 2, 2)
    graph = plan(root)
    shutil.rmtree(os.path.join(root, "out"))
    assert {s for s, _ in Staleness(graph).states().values()} == {JobStatus.PENDING}
    assert not os.path.exists(os.path.join(root, "out"))


def test_the_cache_stays_bounded_as_jobs_re_run(tmp_path) -> None:
    """Entries of files that changed are dropped once they outnumber the jobs a pass looks up."""
    files = [tmp_path / f"f{i}" for i in range(40)]
    path = str(tmp_path / "cache")
    sizes = []
    for _ in range(4):  # each round every job re-ran: new files, so every entry of the round before is stale
        for f in files:
            f.unlink(missing_ok=True)
            f.write_text("0")
        cache = FolderCache(path, limit_ns=2**62)
        for f in files:
            st = identity(os.stat(f))
            assert cache.lookup(st, ABSENT, 7) is None
            cache.add(st, ABSENT, 7, "00ff")
        cache.save()
        sizes.append(os.path.getsize(path))
        again = FolderCache(path, limit_ns=2**62)
        assert all(again.lookup(identity(os.stat(f)), ABSENT, 7) == ("00ff", 0) for f in files)
    entries = [(size - 80) // ENTRY for size in sizes]
    assert max(entries) <= 2 * len(files) and entries[-1] >= len(files)


def test_a_hit_a_helper_found_in_another_version_of_the_cache_holds_but_changes_nothing_else(tmp_path) -> None:
    """A helper of the pass may have read the cache file before a concurrent command replaced it: its entry's
    index is then another entry's in the pass's version. The pass takes the helper's answer (it holds for the
    files: the entry's check covers them) but neither marks nor changes its own entry at that index."""
    files = [tmp_path / f"f{i}" for i in range(6)]
    for f in files:
        f.write_text("0")
    ids = [identity(os.stat(f)) for f in files]
    path = str(tmp_path / "cache")
    old = FolderCache(path, limit_ns=2**62)
    for number, e in enumerate(ids[3:]):
        old.add(e, ABSENT, number, "0a")
    old.save()
    helper = FolderCache(path, limit_ns=2**62)  # (its copy, read before the file was replaced)
    new = FolderCache(path, limit_ns=2**62)
    assert [new.lookup(e, ABSENT, n) for n, e in enumerate(ids[3:])] == [("0a", 0)] * 3  # (kept: used)
    for number, e in enumerate(ids[:3]):  # smaller inodes first: every old entry moves up
        new.add(e, ABSENT, 10 + number, "0b")
    new.save()
    if [e[1] for e in ids] != sorted(e[1] for e in ids):
        pytest.skip("the file system handed out inodes out of order")
    cache = FolderCache(path, limit_ns=2**62)  # the pass's
    hit = helper.find(ids[3], ABSENT, 0)
    assert hit is not None and hit[0] == 0  # the first entry of the old file, the fourth of the new
    assert cache.found(hit, ids[3], ABSENT, 0) == ("0a", 0)
    cache.confirm(77)  # the pass found it planned: only an entry of its own version would be changed
    cache.save()
    again = FolderCache(path, limit_ns=2**62)
    assert [again.lookup(e, ABSENT, 10 + n) for n, e in enumerate(ids[:3])] == [("0b", 0)] * 3
    assert [again.lookup(e, ABSENT, n) for n, e in enumerate(ids[3:])] == [("0a", 0)] * 3


def test_a_helpers_hit_where_this_version_holds_another_entry_of_the_inode_leaves_that_entry(tmp_path) -> None:
    """The pass's version may hold, at the index of the helper's entry, another entry of the same inode (a stale
    one, of a job that ran again): confirming the job then gives it an entry of its own, and the other stays."""
    job, stale = (1, 100, 1, 1, 5), (1, 100, 1, 1, 3)  # the same inode: an `exitcode` made again
    path = str(tmp_path / "cache")
    old = FolderCache(path, limit_ns=2**62)
    old.add(job, ABSENT, 0, "0a")
    old.save()
    helper = FolderCache(path, limit_ns=2**62)
    os.unlink(path)
    new = FolderCache(path, limit_ns=2**62)  # another command's cache, written meanwhile: only the stale entry
    new.add(stale, ABSENT, 0, "0c")
    new.save()
    cache = FolderCache(path, limit_ns=2**62)
    hit = helper.find(job, ABSENT, 0)
    assert hit is not None and hit[0] == 0 and cache.find(job, ABSENT, 0) is None
    assert cache.found(hit, job, ABSENT, 0, here=False) == ("0a", 0)
    cache.confirm(77)
    cache.save()
    again = FolderCache(path, limit_ns=2**62)
    assert again.lookup(job, ABSENT, 0) == ("0a", 77)
    assert again.lookup(stale, ABSENT, 0) == ("0c", 0)
