"""End-to-end: the status cache (`ROOT/.status/`) changes nothing the CLI shows. With it warm, outputs deleted
and an `exitcode` rewritten by hand show as they do without it, a damaged cache is ignored, and `run` re-runs
exactly the jobs that are not done."""

from __future__ import annotations

import os
import shutil

from hypermetric import api
from hypermetric.store import statuscache
from hypermetric.store.staleness import Staleness

PIPELINE = """
log = "{log}"

task t(a={{A: 1 2 3 4}}, log=$) -> out:
  echo $a > $out
  echo t$a >> $log

task r(x=$t[A: *].out, log=$) -> out:
  cat $x/* > $out
  echo r >> $log
"""


def _past_tick(folder: str) -> None:
    """Return once the file system's clock has moved past the ctime of every file below `folder`
    (synchronised on a probe file's own ctime), so that a change made afterwards changes a file's ctime."""
    newest = max(os.stat(os.path.join(d, f)).st_ctime_ns for d, _, files in os.walk(folder) for f in files)
    probe = os.path.join(os.path.dirname(folder), "probe")
    for _ in range(1_000_000):  # bounds only a failure: a tick of the clock takes milliseconds
        with open(probe, "w") as f:
            f.write("x")
        if os.stat(probe).st_ctime_ns > newest:
            return
    raise AssertionError("the file system's clock did not move")


def test_a_warm_status_cache_changes_nothing_the_cli_shows(project, monkeypatch):
    project.write("p.hm", PIPELINE.format(log=project.path("ran.log")))
    project.sh("run", "p.hm", "r", "-y").ok()
    # The cache, written by a pass that trusts files as recent as these (the CLI's passes trust older ones only).
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)
    Staleness(api.plan(api.load("p.hm"), ["r"])).states()
    cache = project.path("out/.status/t")
    assert cache.stat().st_size > 4 * 50
    _past_tick(str(project.path("out")))
    os.unlink(project.path("out/t/A=2/out"))
    project.path("out/t/A=3/exitcode").write_text("1")  # in place, the same size as "0"

    warm = project.sh("dry-run", "p.hm", "r").ok().out
    data = cache.read_bytes()
    shutil.rmtree(project.path("out/.status"))
    assert project.sh("dry-run", "p.hm", "r").ok().out == warm
    assert "t[A: 2] FAILED" in warm and "t[A: 3] FAILED" in warm
    assert warm.splitlines()[-1] == "5 jobs: 2 COMPLETE, 2 FAILED, 1 OUTDATED"
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(data[:80] + bytes(len(data) - 80))  # damaged entries
    assert project.sh("dry-run", "p.hm", "r").ok().out == warm

    project.path("ran.log").write_text("")
    project.sh("run", "p.hm", "r", "-y").ok()
    assert sorted(project.read("ran.log").split()) == ["r", "t2", "t3"]
    assert project.sh("dry-run", "p.hm", "r").ok().out.splitlines()[-1] == "5 jobs: 5 COMPLETE"
