"""HyperMake compatibility, end to end through the real CLI: remote execution through a file system's
`execute`, and the places where hypermetric used to differ from HyperMake's files and docs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from support.hypermake_docs import POPEN_RUNNER, with_refresh_interval

FAR_FS = """
object far:
  root = "{root}"
  def read(file):
    cat "$root/$file"
  def mkdir(dir):
    mkdir -p "$root/$dir"
  def exists(file):
    test -e "$root/$file"
  def touch(file):
    touch "$root/$file"
  def remove(file):
    rm -rf "$root/$file"
  def upload(src, dst):
    mkdir -p "$(dirname "$root/$dst")" && cp -r "$src" "$root/$dst"
  def download(src, dst):
    cp -r "$root/$src" "$dst"
  def execute(command):
    cd "$root" && bash -c "$command"
"""


def test_a_task_runs_through_a_custom_file_systems_execute(project):
    far = project.root / "far"
    project.write("main.hm", FAR_FS.format(root=far) + """
x = {X: x1 "x 2"}
task prep(x=$x) -> out:
  echo "prep $x" > $out
task t@far(p=$prep.out, x=$x) -> o:
  echo "in $PWD as $HYPERMAKE_JOB_WD"
  cat $p > $o
task after(i=$t.o) -> f:
  cat $i > $f
""")
    result = project.sh("run", "main.hm", "after[X: *]", "-y").ok()
    job = far / "t" / "X=x+2"
    assert sorted(os.listdir(job)) == ["args", "exitcode", "o", "p", "script", "stderr", "stdout"]
    assert (job / "o").read_text() == "prep x 2\n"
    assert f"t[X: x 2]> in {job} as {job}" in result.out
    assert project.read("out/t/X=x+2/stdout") == f"in {job} as {job}\n"
    assert project.read("out/t/X=x+2/exitcode") == "0"
    assert not project.path("out/t/X=x+2/o").exists()  # the output lives on `far` only
    assert project.read("out/after/X=x+2/f") == "prep x 2\n"
    os.remove(job / "o")  # an output missing on `far` makes the job not done
    out = project.sh("dry-run", "main.hm", "t[X: *]").ok().out
    assert "t[default] COMPLETE" in out and "t[X: x 2] COMPLETE" not in out


def test_a_file_system_without_execute_cannot_run_a_task(project):
    project.write("main.hm", FAR_FS.format(root=project.root / "far").replace("def execute", "def run_it")
                  + "task t@far -> o:\n  touch $o\n")
    result = project.sh("dry-run", "main.hm", "t").user_error()
    assert "main.hm:19:1: error: file system `far` cannot run task `t`: it has no function `execute`" in result.err


def test_a_reduction_folder_holds_only_its_entries(project):
    project.write("main.hm", """
import table
x = {X: x1 x2 x3}
task t(x=$x) -> out:
  echo "{\\"score\\": 1}" > $out
task listing(d=$t[X: *].out) -> out:
  ls -A "$d" > $out
  find "$d" -mindepth 1 | wc -l >> $out
task scores(d=$t[X: *].out) -> (out="scores.parquet") = table.collect(inputs=$d, output=$out)
""")
    project.sh("run", "main.hm", "listing", "scores", "-y", env={"HYPERMETRIC_PYTHON": sys.executable}).ok()
    assert project.read("out/listing/default/out").split() == ["X=x2", "X=x3", "default", "3"]
    assert project.path("out/listing/default/.d.manifest.arrow").is_file()
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(project.path("out/scores/default/scores.parquet"))
    assert sorted(table.column("X").to_pylist()) == ["x1", "x2", "x3"]  # cases from the manifest


def test_run_options_are_accepted_by_every_command(project):
    project.write("main.hm", "x = {X: a b}\ntask t(x=$x) -> o:\n  echo $x > $o\n")
    project.sh("run", "main.hm", "t", "-j", "2", "-k", "-s", "-v", "-y").ok()
    project.sh("list", "main.hm", "-j", "2", "-k", "-s", "-v", "-y").ok()
    for command in ("dry-run", "describe", "get-path", "invalidate", "unlock", "touch", "remove"):
        project.sh(command, "main.hm", "t", "-j", "2", "-k", "-s", "-v", "-y").ok()
    project.sh("main.hm", "dry-run", "-j8", "t").ok()
    assert not project.path("out/t/default").exists()  # `remove -y` did remove


def test_include_git_adds_a_directory_or_a_cloned_repository(project, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "mylib.hm").write_text("greeting = hello\n")
    project.write("main.hm", "import mylib\ntask t(g=$mylib.greeting) -> o:\n  echo $g > $o\n")
    project.sh("run", "main.hm", "t", "-G", str(lib), "-y").ok()
    assert project.read("out/t/default/o") == "hello\n"
    repo = tmp_path / "repo"
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env={**os.environ, **git})
    (repo / "mylib.hm").write_text("greeting = cloned\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True, env={**os.environ, **git})
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "lib"], check=True, env={**os.environ, **git})
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    shutil.rmtree(project.path("out"))
    project.sh("run", "main.hm", "t", "--include-git", f"file://{repo}", "-y", env=cache).ok()
    assert project.read("out/t/default/o") == "cloned\n"
    failed = project.sh("dry-run", "main.hm", "t", "-G", f"file://{tmp_path}/nothing", env=cache).user_error()
    assert f"error: cannot clone `file://{tmp_path}/nothing` for -G" in failed.err


def test_unquoted_targets_split_by_the_shell_are_joined(project):
    project.write("main.hm", "x = {X: x1 x2}\ny = {Y: y1 y2}\ntask t(x=$x, y=$y) -> o:\n  echo $x > $o\n")
    out = project.sh("main.hm", "dry-run", "t[X:", "x2]").ok().out
    assert "t[X: x2] PENDING" in out and "1 job" in out
    out = project.sh("dry-run", "main.hm", "t[X:", "x2,", "Y:", "y1", "y2]", "t", "[Y:", "y2]").ok().out
    assert "t[X: x2] " in out and "t[X: x2, Y: y2] " in out and "t[Y: y2] " in out and "3 jobs" in out


def test_modules_are_searched_in_hypermakes_order_and_v_says_which_was_loaded(project):
    project.write("pipelines/main.hm", "import mod\ntask t(v=$mod.origin) -> o:\n  echo $v > $o\n")
    project.write("pipelines/mod.hm", "origin = beside\n")
    project.write("mod.hm", "origin = cwd\n")
    result = project.sh("run", "pipelines/main.hm", "t", "-v", "-y").ok()
    assert project.read("out/t/default/o") == "cwd\n"
    assert f"pipelines/main.hm:1:1: module `mod` loaded from {project.root / 'mod.hm'}" in result.err
    os.remove(project.path("mod.hm"))
    project.sh("remove", "pipelines/main.hm", "t", "-y").ok()
    result = project.sh("run", "pipelines/main.hm", "t", "-v", "-y").ok()
    assert project.read("out/t/default/o") == "beside\n"  # the file's own folder, as a last resort
    assert f"loaded from {project.root / 'pipelines' / 'mod.hm'}" in result.err


def test_an_axis_only_in_an_output_name_does_not_make_the_task_vary(project):
    project.write("main.hm", "a = {A: a1 a2}\ntask t -> (o={A: a1=f1.txt a2=f2.txt}):\n  echo hi > $o\n")
    out = project.sh("dry-run", "main.hm", "t[A: *]").ok().out
    assert "1 job" in out
    project.sh("run", "main.hm", "t", "-y").ok()
    assert project.read("out/t/default/f1.txt") == "hi\n"


def test_reducing_over_an_axis_the_producer_lacks_gives_one_default_entry(project):
    project.write("main.hm", """
a = {A: a1 a2}
x = {X: x1 x2}
task t1(x=$x) -> out:
  echo $x > $out
task r(d=$t1[A: *].out) -> out:
  ls -A $d > $out
  cat $d/default >> $out
""")
    project.sh("run", "main.hm", "r", "-y").ok()
    assert project.read("out/r/default/out") == "default\nx1\n"


def test_describe_shows_reductions_as_upstream_paths_and_omits_decorator_arguments(project):
    project.write("main.hm", """
x = {X: x1 x2}
class deco(flag):
  def run(inner):
    . $inner
task t1(x=$x) -> out:
  echo $x > $out
@deco(flag=$t1.out)
task r(d=$t1[X: *].out, p="v") -> out:
  ls $d > $out
""")
    described = json.loads(project.sh("describe", "main.hm", "r").ok().out)[0]
    root = project.root / "out" / "t1"
    assert described["inputs"] == {"d": f"{root}/default/out {root}/X=x2/out", "p": "v"}


@pytest.mark.parametrize("interval", [None, "0.05"])
def test_the_runner_example_of_hypermakes_docs_runs_unchanged(project, interval):
    popen = POPEN_RUNNER
    if interval is not None:
        popen = with_refresh_interval(popen, interval)
    project.write("main.hm", popen + """
@@popen
task t(x={X: a b}) -> o:
  echo "out $x"
  echo "$x" > $o
""")
    result = project.sh("run", "main.hm", "t[X: *]", "-y").ok()
    assert "t[X: b]> out b" in result.out
    assert project.read("out/t/X=b/o") == "b\n" and project.read("out/t/X=b/exitcode") == "0"
