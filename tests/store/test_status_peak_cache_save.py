"""A status cache file written back from its mapped pages (store/statuscache_file.py) holds exactly the bytes
the whole-buffer merge wrote: the file's entries in key order, with the ones given a fingerprint changed, the
added ones after those of the same or a smaller key, and the unused ones dropped once they outnumber the most
lookups of a pass."""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right

import pytest

from hypermetric.store import statuscache_file
from hypermetric.store.identity import ABSENT, Identity
from hypermetric.store.statuscache import _ENTRY, _HEADER, _MAGIC, _TAG, FolderCache, _pack


def Stat(ino: int, ctime_ns: int) -> Identity:  # noqa: N802  # (named as the `stat` it stands for)
    """The identity of a file as the cache keeps it: device, inode, size, mtime and ctime."""
    return 1, ino, 1, 1, ctime_ns


def _reference(old: bytes, hits: set[int], changes: dict[int, bytes], added: list[tuple[int, bytes]],
               lookups: int) -> bytes:
    """The merge as it was written before the file was mapped: everything in one buffer."""
    _, _, count, most = _HEADER.unpack_from(old)
    most = max(most, lookups)
    split = _HEADER.size + 8 * count
    keys, entries = old[_HEADER.size:split], bytearray(old[split:])
    for i, entry in changes.items():
        entries[i * _ENTRY.size:(i + 1) * _ENTRY.size] = entry
    if count - len(hits) > most:
        used = sorted(hits)
        keys = b"".join(keys[i * 8:(i + 1) * 8] for i in used)
        entries = bytearray(b"".join(entries[i * _ENTRY.size:(i + 1) * _ENTRY.size] for i in used))
    sorted_keys = memoryview(keys).cast("q")
    out_keys, out_entries, start = array("q"), bytearray(), 0
    for ino, entry in sorted(added):
        end = bisect_right(sorted_keys, ino)
        out_keys.frombytes(keys[start * 8:end * 8])
        out_keys.append(ino)
        out_entries += entries[start * _ENTRY.size:end * _ENTRY.size] + entry
        start = end
    out_keys.frombytes(keys[start * 8:])
    out_entries += entries[start * _ENTRY.size:]
    return _HEADER.pack(_MAGIC, _TAG, len(out_keys), most) + out_keys.tobytes() + bytes(out_entries)


def _digest(rng: random.Random) -> str:
    return rng.randbytes(10).hex()


@pytest.mark.parametrize("seed", range(12))
def test_a_saved_cache_is_the_merge_of_the_whole_buffer(tmp_path, monkeypatch, seed: int) -> None:
    monkeypatch.setattr(statuscache_file, "_CHUNK", 4096)  # many chunks, each let go
    rng = random.Random(seed)
    path = str(tmp_path / "cache")
    first = FolderCache(path, limit_ns=2**62)
    jobs = []  # (exitcode, job.json, name, signature) of the jobs in the file
    for n in range(rng.randint(0, 3000)):
        ino = rng.randrange(1, 400) if rng.random() < 0.5 else rng.randrange(1, 10**6)  # keys repeat
        job = (Stat(ino, n), Stat(ino + 7, n) if rng.random() < 0.9 else ABSENT, n, _digest(rng))
        first.add(job[0], job[1], job[2], job[3])
        jobs.append(job)
    first.save()
    old = open(path, "rb").read()

    cache = FolderCache(path, limit_ns=2**62)
    hits, changes, added, lookups = set(), {}, [], 0
    stored = {(e[1], e[4]): i for i, (e, *_) in enumerate(jobs)}
    entries = [_pack(exitcode, record, name, 10, bytes.fromhex(signature), 0)
               for exitcode, record, name, signature in jobs]
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i][0][1], entries[i]))  # the file's order
    index = {job: position for position, job in enumerate(order)}
    share = rng.choice([0.05, 0.5, 1.0])
    for i in rng.sample(range(len(jobs)), int(share * len(jobs))):
        exitcode, record, name, signature = jobs[i]
        lookups += 1
        assert cache.lookup(exitcode, record, name) == (signature, 0)
        hits.add(index[stored[exitcode[1], exitcode[4]]])
        if rng.random() < 0.3:
            tag = rng.randrange(1, 2**40)
            cache.confirm(tag)
            changes[index[i]] = _pack(exitcode, record, name, 10, bytes.fromhex(signature), tag)
    for n in range(rng.randint(0, 500)):
        ino = rng.randrange(1, 400) if rng.random() < 0.5 else rng.randrange(1, 10**6)
        exitcode, record, signature = Stat(ino, 10**6 + n), Stat(ino + 1, 10**6 + n), _digest(rng)
        cache.add(exitcode, record, n, signature)
        entry = _pack(exitcode, record, n, 10, bytes.fromhex(signature), 0)
        if rng.random() < 0.3:
            tag = rng.randrange(1, 2**40)
            cache.confirm(tag)
            entry = _pack(exitcode, record, n, 10, bytes.fromhex(signature), tag)
        added.append((ino, entry))
    cache.save()

    expected = _reference(old, hits, changes, added, lookups) if added or changes else old
    assert open(path, "rb").read() == expected
