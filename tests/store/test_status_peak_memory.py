"""Memory DURING the status pass against the number of done jobs: with the status cache warm, a done job costs
the pass a few bytes (its digest at its place in the order, its cache entry's key, a mark that it was used),
not a buffer of the whole cache file nor a string per digest; and a cache file that can no longer be read
mid-pass (a network file system's) only makes its jobs read."""

from __future__ import annotations

import os
import tracemalloc

import pytest
from finished import tensor

from hypermetric.store import statuscache, statuscache_file
from hypermetric.store.layout import STATUS_CACHE
from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passes trust files changed up to a minute after they start, so that the files just written are cached."""
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)


def _warm(root: str, b: int) -> Staleness:
    """A tensor of 20 x `b` done jobs whose status cache knows every one (and their digests as planned)."""
    os.makedirs(root)
    graph = tensor(root, 20, b)
    Staleness(graph).states()  # reads every job, finds its digest the planned one: the cache says so
    return Staleness(graph)


def _pass_peak(staleness: Staleness) -> int:
    """The most bytes allocated at once during a whole pass, above what was allocated before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in staleness.each():
            pass
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_a_done_job_costs_the_pass_a_few_bytes_while_it_runs(tmp_path, trusted, monkeypatch) -> None:
    # Both files read by blocks, a few kept: what a pass holds of the cache at any size, but a million jobs'
    # keys (8 bytes a job).
    monkeypatch.setattr(statuscache_file, "_WHOLE", 0)
    monkeypatch.setattr(statuscache, "_BLOCKS", 4)
    small, large = _warm(str(tmp_path / "small"), 50), _warm(str(tmp_path / "large"), 500)
    _pass_peak(small)  # (fills the interpreter's free lists, which tracemalloc counts as allocated)
    growth = _pass_peak(large) - _pass_peak(small)
    # What tracemalloc does not see: the learnt digests' anonymous mapping, 11 bytes a job where one was learnt.
    learnt = large.signer._learned
    assert learnt is not None and len(learnt) == 10_000  # every done job's digest was learnt, not computed
    per_job = (growth + 11 * (10_000 - 1_000)) / (10_000 - 1_000)
    assert per_job < 32, f"{per_job:.0f} bytes per done job during the pass"  # (it was about 180)


def test_a_large_cache_file_is_read_a_block_at_a_time(tmp_path, trusted, monkeypatch) -> None:
    staleness = _warm(str(tmp_path / "w"), 500)
    path = os.path.join(str(tmp_path / "w"), "out", STATUS_CACHE, "t")
    assert os.path.getsize(path) > 10_000 * 65 > statuscache_file._WHOLE  # (a small file is read whole)
    reads = []
    real = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, size, offset: reads.append(size) or real(fd, size, offset))
    states = staleness.states()
    assert sum(1 for status, _ in states.values() if status is JobStatus.COMPLETE) == 10_000
    assert max(reads) <= max(10_000 * 8, statuscache._BLOCK * statuscache._ENTRY.size)  # the keys, or a block
    assert sum(reads) < 1.25 * os.path.getsize(path), sum(reads)  # mostly once: the header, the keys, each block


def test_a_cache_file_that_cannot_be_read_any_more_gives_the_statuses_of_no_cache(tmp_path, trusted,
                                                                                  monkeypatch) -> None:
    """(As a network file system's client may find a file replaced by another machine: the entries not read
    yet are unknown, so their jobs are read.)"""
    staleness = _warm(str(tmp_path / "w"), 500)
    expected = Staleness(staleness.graph).states()
    real, calls = os.pread, []

    def failing(fd: int, size: int, offset: int) -> bytes:
        calls.append(size)
        if len(calls) > 4:
            raise OSError(116, "Stale file handle")
        return real(fd, size, offset)

    monkeypatch.setattr(os, "pread", failing)
    assert staleness.states() == expected
    assert len(calls) > 4


def test_a_first_pass_keeps_the_entries_it_adds_compactly(tmp_path, trusted) -> None:
    """The pass that first writes a folder's cache keeps each entry in 65 bytes until it writes them (not a
    tuple and a bytes object each); a done job's computed digest is still kept by id."""
    for name in ("small", "large", "warm-up"):
        os.makedirs(tmp_path / name)
    small, large = [Staleness(tensor(str(tmp_path / name), 20, b)) for name, b in (("small", 30), ("large", 300))]
    _pass_peak(Staleness(tensor(str(tmp_path / "warm-up"), 20, 10)))
    growth = _pass_peak(large) - _pass_peak(small)
    per_job = growth / (6_000 - 600)
    assert per_job < 315, f"{per_job:.0f} bytes per done job during the first pass"  # (it was about 360)
