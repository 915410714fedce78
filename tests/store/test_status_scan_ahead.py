"""A status pass that shares its file checks with forked helpers (store/scan_ahead.py) finds exactly what the
pass alone finds, writes the same status cache, leaves no helper behind however it ends, and forks nothing for
a small pass."""

from __future__ import annotations

import json
import os
import random
import shutil
import threading

import pytest
from finished import tensor as _tensor
from finished import write as _write

from hypermetric.plan.graph import JobGraph
from hypermetric.store import scan_ahead, staleness, statuscache
from hypermetric.store.layout import STATUS_CACHE
from hypermetric.store.scan_record import EXITCODE_IDENTITY, FOUND_EXITCODE, FOUND_OUTPUTS
from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="helpers are forked only where a process can fork")


@pytest.fixture(autouse=True)
def _one_thread(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads that earlier tests of the session left behind (servers, Ray's) would stop every fork; these
    tests' helpers only make `os` calls, so the process is taken for a single-threaded one, except by the test
    of that very rule."""
    if request.node.name != "test_no_helper_is_forked_while_another_thread_runs":
        monkeypatch.setattr(threading, "active_count", lambda: 1)


class _Forks:
    """Records the helpers forked while installed; sends each `signal` (if any) right after it is forked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, signal: int = 0) -> None:
        self.pids: list[int] = []
        real = os.fork

        def fork() -> int:
            pid = real()
            if pid:
                self.pids.append(pid)
                if signal:
                    os.kill(pid, signal)
            return pid
        monkeypatch.setattr(os, "fork", fork)

    def all_reaped(self) -> bool:
        for pid in self.pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue  # reaped: no longer a child of this process
            return False
        return True


def _pass(graph: JobGraph, split: bool, helpers: int = 2, wait: bool = False) -> tuple[dict, dict[str, bytes]]:
    """The states of one pass (split over `helpers` in blocks of 7 jobs, `wait`ing for every answer or not), and
    the status cache it left."""
    staleness = Staleness(graph)
    if split:
        staleness.split_from, staleness.split_block, staleness.split_helpers = 1, 7, helpers
        staleness.split_wait = wait
    else:
        staleness.split_from = 10**9
    states = staleness.states()
    folder = os.path.join(graph.root, STATUS_CACHE)
    cache = {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))} \
        if os.path.isdir(folder) else {}
    return states, cache


def _damage(graph: JobGraph, seed: int) -> None:
    """Each kind of change a done job can see, at random jobs of `t`."""
    rng = random.Random(seed)
    t = [graph.jobs[i] for i in graph.order() if graph.jobs[i].name == "t"]
    for job in rng.sample(t, 60):
        kind = rng.randrange(7)
        if kind == 0:
            os.unlink(os.path.join(job.workdir, "out"))
        elif kind == 1:
            _write(os.path.join(job.workdir, "exitcode"), "1")
        elif kind == 2:
            os.unlink(os.path.join(job.workdir, "exitcode"))
        elif kind == 3:
            _write(os.path.join(job.workdir, "job.json"), json.dumps({"signature": "0123456789abcdef0123"}))
        elif kind == 4:
            os.unlink(os.path.join(job.workdir, "job.json"))
        elif kind == 5:
            shutil.rmtree(job.workdir)
        else:
            os.symlink("nowhere", os.path.join(job.workdir, "dangling"))
            os.unlink(os.path.join(job.workdir, "out"))
            os.symlink("nowhere", os.path.join(job.workdir, "out"))


@pytest.mark.parametrize(("seed", "helpers"), [(1, 1), (2, 2), (3, 3)])
def test_a_split_pass_finds_and_caches_what_the_pass_alone_does(tmp_path, monkeypatch, seed, helpers) -> None:
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)  # every file old enough to be cached
    forks = _Forks(monkeypatch)
    graph = _tensor(str(tmp_path), 20, 30)
    _damage(graph, seed)
    cache = os.path.join(graph.root, STATUS_CACHE)
    alone, alone_cache = _pass(graph, split=False)
    assert not forks.pids
    for wait in (True, False):  # (not waiting, the pass checks the blocks whose answers are late itself)
        shutil.rmtree(cache)
        split, split_cache = _pass(graph, split=True, helpers=helpers, wait=wait)
        assert split == alone
        assert split_cache == alone_cache and alone_cache
    assert len(forks.pids) == 2 * helpers and forks.all_reaped()
    assert sum(s is JobStatus.COMPLETE for s, _ in alone.values()) > 500
    # and again, with the cache both wrote: every done job found in it
    assert _pass(graph, split=True) == _pass(graph, split=False)


@pytest.mark.parametrize(("signal", "wait"), [(9, True), (9, False), (19, False)])
def test_a_pass_whose_helper_died_or_is_held_back_checks_its_blocks_itself(tmp_path, monkeypatch, signal,
                                                                           wait) -> None:
    graph = _tensor(str(tmp_path), 20, 30)
    _damage(graph, 4)
    alone, _ = _pass(graph, split=False)
    forks = _Forks(monkeypatch, signal)  # killed, or stopped (SIGSTOP): the pass does not wait for it
    split, _ = _pass(graph, split=True, wait=wait)
    assert forks.pids and forks.all_reaped()
    assert split == alone


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_a_pass_left_on_an_error_leaves_no_helper_behind(tmp_path, monkeypatch, error) -> None:
    from hypermetric.store.scan import StatusScan

    graph = _tensor(str(tmp_path), 20, 30)
    forks = _Forks(monkeypatch)
    checked = 0
    real = StatusScan.check

    def check(self, *args):
        nonlocal checked
        checked += 1
        if checked == 100:
            raise error()
        return real(self, *args)
    monkeypatch.setattr(StatusScan, "check", check)
    staleness = Staleness(graph)
    staleness.split_from, staleness.split_block, staleness.split_helpers = 1, 7, 2
    with pytest.raises(error):
        staleness.states()
    assert forks.pids and forks.all_reaped()


def test_a_small_pass_forks_nothing(tmp_path, monkeypatch) -> None:
    graph = _tensor(str(tmp_path), 30, 30)
    forks = _Forks(monkeypatch)
    states = Staleness(graph).states()
    assert len(states) == 930 and not forks.pids
    assert scan_ahead.helpers_for(930, staleness.SPLIT_FROM) == 0
    assert scan_ahead.helpers_for(staleness.SPLIT_FROM, 1) == min(len(os.sched_getaffinity(0)) - 1, 3)


def test_no_helper_is_forked_while_another_thread_runs() -> None:
    started, stop = threading.Event(), threading.Event()

    def wait() -> None:
        started.set()
        stop.wait()
    thread = threading.Thread(target=wait)
    thread.start()
    try:
        started.wait()
        assert scan_ahead.helpers_for(10**9, 1) == 0
    finally:
        stop.set()
        thread.join()


def test_a_split_pass_makes_a_fraction_of_the_file_checks_and_cache_lookups_itself(tmp_path, monkeypatch) -> None:
    """The helpers check the files of their blocks and look them up in the status cache: the pass does both only
    for its own blocks (the helper's calls are counted in its own copy of the counters)."""
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)  # every file old enough to be cached
    graph = _tensor(str(tmp_path), 30, 30)
    counts = {"stat": 0, "access": 0, "find": 0}
    for owner, name in ((os, "stat"), (os, "access"), (statuscache.FolderCache, "find")):
        real = getattr(owner, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)
    _pass(graph, split=False)  # (writes the cache)
    counts.update(stat=0, access=0, find=0)
    alone, _ = _pass(graph, split=False)
    serial = dict(counts)
    counts.update(stat=0, access=0, find=0)
    split, _ = _pass(graph, split=True, helpers=1, wait=True)  # the pass keeps 2 blocks in 5
    assert split == alone and serial["access"] == serial["find"] == 900
    assert all(counts[name] <= 0.45 * serial[name] for name in counts), (counts, serial)


def _no_cache(_: str) -> None:
    return None


def _folders(root: str, count: int, *, outputs: bool) -> list[str]:
    """Job folders `t/0` ... of which every one whose number is not a multiple of 3 has an `exitcode` and, with
    `outputs`, every odd one an output `out`; their names, in order."""
    order = [str(i) for i in range(count)]
    for i in order:
        os.makedirs(os.path.join(root, "t", i))
        if int(i) % 3:
            _write(os.path.join(root, "t", i, "exitcode"), "0")
        if outputs and int(i) % 2:
            _write(os.path.join(root, "t", i, "out"), "x")
    return order


def test_blocks_the_pass_asks_nothing_of_are_passed_over_in_order(tmp_path) -> None:
    root = str(tmp_path)
    order = _folders(root, 60, outputs=True)
    ahead = scan_ahead.Ahead(order, lambda i: (os.path.join(root, "t", i), ("out",)), _no_cache, 1, block=4,
                             wait=True)
    try:
        asked = [i for i in range(60) if not 4 <= i < 36]  # the helper's blocks 1, 2, 4, 5, 7 and 8: never asked
        for index in asked:
            looked = ahead.get(index)
            if ahead.owner(index // 4) < 0:
                assert looked is None
                continue
            assert looked is not None
            assert bool(looked[0] & FOUND_EXITCODE) == bool(index % 3)
            if index % 3:  # (outputs are looked at only then)
                assert bool(looked[0] & FOUND_OUTPUTS) == bool(index % 2)
                assert looked[EXITCODE_IDENTITY][1] == os.stat(os.path.join(root, "t", str(index), "exitcode")).st_ino
    finally:
        ahead.close()


def test_answers_that_came_late_are_dropped_and_the_next_ones_taken(tmp_path, monkeypatch) -> None:
    root = str(tmp_path)
    order = _folders(root, 30, outputs=False)
    forks = _Forks(monkeypatch)
    go_read, go_write = os.pipe()
    held = [True]
    real_look = scan_ahead.look

    def look(*args):  # in the helper: its first check waits for the test's word
        if held[0]:
            os.read(go_read, 1)
            held[0] = False
        return real_look(*args)
    monkeypatch.setattr(scan_ahead, "look", look)
    ahead = scan_ahead.Ahead(order, lambda i: (os.path.join(root, "t", i), ("exitcode",)), _no_cache, 1, block=4)
    try:
        assert ahead.get(4) is None  # block 1 (the helper's): not come yet, the pass checks it itself
        os.write(go_write, b"x")
        ahead._wait = True  # from now on, wait for each answer (a helper that caught up)
        for index in range(8, 30):
            looked = ahead.get(index)
            if ahead.owner(index // 4) < 0:
                continue
            assert looked is not None and bool(looked[0] & FOUND_EXITCODE) == bool(index % 3)
            if index % 3:
                assert looked[EXITCODE_IDENTITY][1] == os.stat(os.path.join(root, "t", str(index), "exitcode")).st_ino
    finally:
        ahead.close()
        os.close(go_read)
        os.close(go_write)
    assert forks.all_reaped()
