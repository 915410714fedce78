"""End-to-end: `run` of a graph that is partly done, through the real CLI. The jobs found done are counted,
not listed (also with `-v`); the run record lists every job, and `runs`/`diff` read the done ones back."""

from __future__ import annotations

import os

PIPELINE = """
k = {K: 1=one 2=two 3=three 4=four}

task t(k=$) -> o:
  echo $k > $o
"""


def test_a_partial_rerun_shows_only_what_runs_and_records_everything(project) -> None:
    project.write("p.hm", PIPELINE)
    project.sh("run", "p.hm", "t[K: *]", "-y").ok()
    os.remove(project.path("out", "t", "K=3", "exitcode"))
    out = project.sh("run", "p.hm", "t[K: *]", "-v", "-y").ok().out.splitlines()
    assert [line.split(" in ")[0] for line in out[:-1]] == ["t[K: 3]: RUNNING", "t[K: 3]: SUCCESS"]
    assert out[-1].startswith("1 succeeded, 3 complete in ")
    listing = project.sh("runs", "p.hm").ok().out.splitlines()
    assert "4 SUCCESS" in listing[1] and "3 COMPLETE, 1 SUCCESS" in listing[2]
    records = sorted(os.listdir(project.path("out", ".runs")))
    assert project.read("out", ".runs", records[-1], "jobs") == "t\nt?K=2\nt?K=3\nt?K=4"  # K: 1 is the default
    # The jobs found done keep their signatures: nothing changed, so no job differs.
    assert project.sh("diff", "p.hm").ok().out.splitlines()[-1] == "no job differs"
    project.write("p.hm", PIPELINE.replace("2=two", "2=deux"))
    out = project.sh("run", "p.hm", "t[K: *]", "-y").ok().out
    assert out.startswith("t[K: 2]: RUNNING\nt[K: 2]: SUCCESS\n1 succeeded, 3 complete in "), out
    out = project.sh("diff", "p.hm").ok().out
    assert "~ t[K: 2]: value of k changed: two → deux" in out and out.splitlines()[-1] == "1 job differs", out
