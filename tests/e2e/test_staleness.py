"""End-to-end: staleness through the real CLI. A finished job whose script, values, inputs, reduction entries
or input files changed is OUTDATED with a reason; `run` re-runs exactly those jobs and their dependents; runs
are recorded, listed and compared. Each task appends its name to `ran.log`, which says what ran."""

from __future__ import annotations

import json
import os
import re

PIPELINE = """
scale = 1
model = {{Model: bm25 dense}}
log = "{log}"

task a(scale=$, log=$) -> o:
  echo $scale > $o
  echo a >> $log

task b(x=$a.o, model=$, log=$) -> out:
  cat $x > $out
  echo $model >> $out
  echo b-$model >> $log

task summary(r=$b[Model: *].out, log=$) -> s:
  cat $r/* > $s
  echo summary >> $log

task other(log=$) -> o:
  echo other > $o
  echo other >> $log
"""

TARGETS = ("summary", "other")


def setup(project, text: str = PIPELINE):
    project.write("p.hm", text.format(log=project.path("ran.log")))
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    return ran(project)


def ran(project) -> list[str]:
    """The tasks that ran since the last call (the log is emptied)."""
    path = project.path("ran.log")
    if not path.exists():
        return []
    lines = path.read_text().split()
    path.write_text("")
    return sorted(lines)


def dry_run(project, *args: str) -> dict[str, str]:
    """`dry-run` as {display id: 'STATUS (reason)'} (the default case's label `t[default]` read as `t`)."""
    out = project.sh("dry-run", "p.hm", *TARGETS, *args).ok().out
    lines = {}
    for line in out.splitlines()[2:-1]:
        match = re.match(r"\S (.+?) ((?:COMPLETE|OUTDATED|PENDING|FAILED).*)\Z", line)
        assert match, line
        lines[match.group(1).removesuffix("[default]")] = match.group(2)
    return lines


def edit(project, old: str, new: str) -> None:
    text = project.read("p.hm")
    assert old in text
    project.path("p.hm").write_text(text.replace(old, new))


def test_script_edit_reruns_the_job_and_its_dependents_only(project):
    assert setup(project) == ["a", "b-bm25", "b-dense", "other", "summary"]
    edit(project, "echo $scale > $o", "echo $scale $scale > $o")
    status = dry_run(project)
    assert status["a"] == "OUTDATED (script changed)"
    assert status["b"] == "OUTDATED (input a.o changed)"
    assert status["other"] == "COMPLETE"
    out = project.sh("dry-run", "p.hm", *TARGETS).out
    assert out.splitlines()[-1] == "5 jobs: 1 COMPLETE, 4 OUTDATED"
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    assert ran(project) == ["a", "b-bm25", "b-dense", "summary"]
    assert project.read("out/a/default/o") == "1 1\n"
    assert set(dry_run(project).values()) == {"COMPLETE"}


def test_whitespace_only_edit_reruns_nothing(project):
    setup(project)
    edit(project, "  echo $scale > $o\n", "  echo $scale > $o   \n\n\n")
    edit(project, "  cat $x > $out\n", "  cat $x > $out\t\n   \n")
    assert set(dry_run(project).values()) == {"COMPLETE"}
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    assert ran(project) == []


def test_value_change_through_define(project):
    setup(project)
    assert dry_run(project, "-D", "scale=2")["a"] == "OUTDATED (value of scale changed: 1 → 2)"
    project.sh("run", "p.hm", *TARGETS, "-D", "scale=2", "-y").ok()
    assert ran(project) == ["a", "b-bm25", "b-dense", "summary"]
    assert project.read("out/a/default/o") == "2\n"
    assert dry_run(project)["a"] == "OUTDATED (value of scale changed: 2 → 1)"


def test_results_mark_values_read_from_outdated_jobs_and_warn(project):
    project.write("r.hm", """
scale = 1
task score(model={Model: bm25 dense}, scale=$) -> o:
  echo "{\\"score\\": $scale}" > $o
""")
    project.sh("run", "r.hm", "score[Model: *]").ok()
    fresh = project.sh("results", "r.hm", "score[Model: *]", "--format", "csv").ok()
    assert [line.split(",")[1] for line in fresh.out.splitlines()[1:]] == ['"COMPLETE"', '"COMPLETE"']
    assert "warning" not in fresh.err
    stale = project.sh("results", "r.hm", "score[Model: *]", "--format", "csv", "-D", "scale=2").ok()
    rows = [line.split(",") for line in stale.out.splitlines()[1:]]
    assert [(row[1], row[2]) for row in rows] == [('"OUTDATED"', "1"), ('"OUTDATED"', "1")]
    assert "warning: 2 cases are OUTDATED" in stale.err


def test_decorator_argument_change(project):
    decorated = """
    class tagged(tag):
      def run(inner):
        echo "[$tag]"; . $inner
    log = "{log}"
    @tagged(tag="one")
    task t(log=$) -> o:
      echo t > $o
      echo t >> $log
    """
    project.write("p.hm", decorated.format(log=project.path("ran.log")))
    project.sh("run", "p.hm", "t", "-y").ok()
    assert ran(project) == ["t"]
    edit(project, 'tag="one"', 'tag="two"')
    out = project.sh("dry-run", "p.hm", "t").ok().out
    assert "t[default] OUTDATED (value of tagged.tag changed: one → two)" in out
    project.sh("run", "p.hm", "t", "-y").ok()
    assert ran(project) == ["t"]
    assert project.read("out/t/default/stdout").startswith("[two]")


def test_new_and_removed_axis_key_in_a_reduction(project):
    setup(project)
    edit(project, "{Model: bm25 dense}", "{Model: bm25 dense splade}")
    status = dry_run(project)
    assert status["summary"] == "OUTDATED (reduction entries changed: +Model=splade)"
    assert status["b[Model: splade]"] == "PENDING"
    assert status["b"] == "COMPLETE"
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    assert ran(project) == ["b-splade", "summary"]
    assert "splade" in project.read("out/summary/default/s")
    edit(project, "{Model: bm25 dense splade}", "{Model: bm25 splade}")
    assert dry_run(project)["summary"] == "OUTDATED (reduction entries changed: -Model=dense)"


def test_changed_input_file_and_touched_input_file(project):
    data = project.path("data.txt")
    data.write_text("one\n")
    os.utime(data, (1_000_000_000, 1_000_000_000))
    project.write("p.hm", f"""
    log = "{project.path('ran.log')}"
    task c(d="{data}"@local, log=$) -> o:
      cat $d > $o
      echo c >> $log
    """)
    project.sh("run", "p.hm", "c", "-y").ok()
    assert ran(project) == ["c"]
    os.utime(data, (1_000_000_500, 1_000_000_500))  # touched: same content, nothing to re-run
    assert "c[default] COMPLETE" in project.sh("dry-run", "p.hm", "c").ok().out
    data.write_text("two\n")
    os.utime(data, (1_000_001_000, 1_000_001_000))
    out = project.sh("dry-run", "p.hm", "c").ok().out
    assert "c[default] OUTDATED (input file data.txt changed)" in out
    project.sh("run", "p.hm", "c", "-y").ok()
    assert ran(project) == ["c"]
    assert project.read("out/c/default/o") == "two\n"


def test_removed_upstream_makes_dependents_outdated(project):
    setup(project)
    project.sh("remove", "p.hm", "a", "-y").ok()
    status = dry_run(project)
    assert status["a"] == "PENDING"
    assert status["b"] == "OUTDATED (input a.o missing)"
    assert status["summary"] == "OUTDATED (input b.out outdated)"
    described = json.loads(project.sh("describe", "p.hm", "b").ok().out)
    assert described[0]["status"] == "outdated"
    assert described[0]["reason"] == "input a.o missing"
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    assert ran(project) == ["a", "b-bm25", "b-dense", "summary"]
    assert set(dry_run(project).values()) == {"COMPLETE"}


def test_hypermake_made_job_directory_stays_done(project):
    project.write("p.hm", PIPELINE.format(log=project.path("ran.log")))
    job = project.path("out/other/default")
    job.mkdir(parents=True)
    (job / "o").write_text("made by HyperMake\n")
    (job / "exitcode").write_text("0")
    project.sh("touch", "p.hm", "a", "-y").ok()
    status = dry_run(project)
    assert status["other"] == "COMPLETE"
    assert status["a"] == "COMPLETE"
    project.sh("run", "p.hm", "other", "-y").ok()
    assert ran(project) == []
    assert project.read("out/other/default/o") == "made by HyperMake\n"
    assert not (job / "job.json").exists()


def test_ignore_changes_keeps_hypermakes_rule_for_one_run(project):
    setup(project)
    edit(project, "echo $scale > $o", "echo scaled $scale > $o")
    project.sh("run", "p.hm", *TARGETS, "--ignore-changes", "-y").ok()
    assert ran(project) == []
    assert dry_run(project)["a"] == "OUTDATED (script changed)"
    project.sh("run", "p.hm", *TARGETS, "-y").ok()
    assert ran(project) == ["a", "b-bm25", "b-dense", "summary"]


def test_runs_and_diff(project):
    setup(project)
    edit(project, "echo $scale > $o", "echo $scale > $o\n  echo again >> $o")
    project.sh("run", "p.hm", *TARGETS, "-D", "scale=3", "-y").ok()
    listing = project.sh("runs", "p.hm").ok().out.splitlines()
    assert len(listing) == 3
    assert "5 SUCCESS" in listing[1]
    assert "1 COMPLETE, 4 SUCCESS" in listing[2]
    out = project.sh("diff", "p.hm").ok().out
    assert "~ a: script changed; value of scale changed: 1 → 3" in out
    assert "    +echo again >> $o" in out
    assert "~ b[Model: dense]: input a.o changed" in out
    assert "~ summary: reduction r: 2 entries changed" in out
    assert "other" not in out
    assert out.splitlines()[-1] == "4 jobs differ"
    data = json.loads(project.sh("diff", "p.hm", "1", "2", "--format", "json").ok().out)
    by_job = {item["job"]: item for item in data["jobs"]}
    assert sorted(by_job) == ["a", "b", "b[Model: dense]", "summary"]
    assert by_job["a"]["change"] == "changed"
    assert "+echo again >> $o" in by_job["a"]["script_diff"]
    assert project.sh("diff", "p.hm", "1", "7").user_error().err.count("no recorded run `7`") == 1


def test_diff_needs_two_runs(project):
    setup(project)
    result = project.sh("diff", "p.hm").user_error()
    assert "needs two recorded runs" in result.err
