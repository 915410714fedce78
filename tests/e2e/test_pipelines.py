"""End-to-end: the CLI runs pipelines in temporary directories; we check the files on disk."""

from __future__ import annotations

import json
import os

import pytest

SWEEP = """
a = {A: x y z}
task t(a=$) -> o:
  echo "$a" > $o
task u(i=$t.o) -> o:
  cat $i > $o; echo u >> $o
task r(d=$t[A: *].o) -> o:
  ls $d > $o
"""


def test_default_case_runs_only_the_default_job(project):
    project.write("main.hm", SWEEP)
    project.run("run", "t", "-y").ok()
    assert project.read("out/t/default/o") == "x\n"
    assert project.read("out/t/default/exitcode") == "0"
    assert not project.path("out/t/A=y").exists()
    for name in ("script", "args", "stdout", "stderr", "exitcode", "job.json"):
        assert project.path("out/t/default", name).exists(), name
    assert not project.path("out/t/default/.lock").exists()


def test_star_runs_every_case_and_axes_propagate(project):
    project.write("main.hm", SWEEP)
    project.run("run", "u[A: *]", "-j2").ok()
    for case, key in (("default", "x"), ("A=y", "y"), ("A=z", "z")):
        assert project.read(f"out/u/{case}/o") == f"{key}\nu\n"
        assert os.path.islink(project.path(f"out/u/{case}/i"))


def test_reduction_is_a_folder_of_relative_symlinks(project):
    project.write("main.hm", SWEEP)
    project.run("run", "r").ok()
    assert project.read("out/r/default/o").split() == ["A=y", "A=z", "default"]
    link = project.path("out/r/default/d/A=y")
    assert os.path.islink(link) and not os.path.isabs(os.readlink(link))
    assert link.read_text() == "y\n"


def test_selection_fixes_one_case(project):
    project.write("main.hm", """
    a = {A: x y z}
    task t(a=$) -> o:
      echo "$a" > $o
    task u(i=$t[A: y].o) -> o:
      cat $i > $o
    """)
    project.run("run", "u").ok()
    assert project.read("out/u/default/o") == "y\n"
    assert project.path("out/t/A=y/o").exists() and not project.path("out/t/default").exists()


def test_cached_rerun_runs_nothing(project):
    project.write("main.hm", SWEEP)
    project.run("run", "t[A: *]").ok()
    stamp = project.path("out/t/A=y/job.json").read_text()
    result = project.run("run", "t[A: *]").ok()
    assert project.path("out/t/A=y/job.json").read_text() == stamp
    assert "RUNNING" not in result.out


def test_hostile_keys_are_encoded_and_stay_under_the_root(project):
    project.write("main.hm", """
    tag = {Tag: plain "p q/r" "a&b" ".." "$(touch pwned)" "a~b" "s*t"}
    task t(tag=$) -> o:
      printf '%s' "$tag" > $o
    """)
    project.run("run", "t[Tag: *]").ok()
    names = sorted(os.listdir(project.path("out/t")))
    assert names == sorted(["default", "Tag=p+q%2Fr", "Tag=a%26b", "Tag=..", "Tag=%24%28touch+pwned%29",
                            "Tag=a%7Eb", "Tag=s*t"])
    assert project.read("out/t/Tag=%24%28touch+pwned%29/o") == "$(touch pwned)"
    assert not project.path("pwned").exists() and not project.path("out/t/Tag=%24%28touch+pwned%29/pwned").exists()


def test_sorted_non_default_pairs(project):
    project.write("main.hm", """
    a = {a: 1 2}
    b = {B: 1 2}
    task t(a=$, b=$) -> o:
      echo $a$b > $o
    """)
    project.run("run", "t[a: 2, B: 2]").ok()
    assert project.read("out/t/B=2&a=2/o") == "22\n"


def test_failure_exit_code_and_rerun_cleans_the_directory(project):
    project.write("main.hm", """
    task t -> o:
      exit 3
    """)
    result = project.run("run", "t")
    assert result.code == 1
    assert "exit code 3" in result.out + result.err
    assert project.read("out/t/default/exitcode") == "3"
    project.path("out/t/default/junk").write_text("stale")
    project.run("run", "t")
    assert not project.path("out/t/default/junk").exists()


def test_missing_output_fails_and_reruns(project):
    project.write("main.hm", """
    task t -> o:
      echo nothing
    """)
    result = project.run("run", "t")
    assert result.code == 1
    assert 'output {o = "o"@local} missing' in result.out + result.err
    result = project.run("run", "t")
    assert result.code == 1  # ran again, failed again


def test_bash_e_is_the_default_shell(project):
    project.write("main.hm", """
    task t -> o:
      false
      touch $o
    """)
    assert project.run("run", "t").code == 1
    assert not project.path("out/t/default/o").exists()


def test_fail_stop_and_keep_going(project):
    project.write("main.hm", """
    task bad -> o:
      exit 1
    task after(i=$bad.o) -> o:
      touch $o
    task other -> o:
      touch $o
    plan all = { after other }
    """)
    result = project.run("run", "all", "-k")
    assert result.code == 1
    assert project.path("out/other/default/o").exists()
    assert not project.path("out/after/default").exists()
    assert "SKIPPED" in result.out + result.err


def test_plans_packages_functions_objects(project):
    project.write("main.hm", """
    import std
    package tool -> out:
      mkdir -p $out; echo 'echo tool-ran' > $out/run.sh
    def greet(who, punct="!") -> o:
      echo "hello $who$punct" > $o
    task hi(name=world) -> o = greet(who=$name)
    object grp:
      lang = en
      task t(tool=$tool, l=$lang) -> o:
        bash $tool/run.sh > $o; echo $l >> $o
    class c(r):
      task t -> o:
        echo "r=$r" > $o
    object i = c(r=1)
    plan P = { hi grp.t i.t }
    """)
    project.run("run", "P").ok()
    assert project.read("out/hi/default/o") == "hello world!\n"
    assert project.read("out/grp/t/default/o") == "tool-ran\nen\n"
    assert project.read("out/i/t/default/o") == "r=1\n"
    assert project.path("out/tool/default/out/run.sh").exists()


def test_imports_of_modules_and_files(project):
    project.write("lib/m.hm", """
    v = from-module
    task t(v=$) -> o:
      echo $v > $o
    """)
    project.write("f.hm", """
    task g -> o:
      echo file > $o
    """)
    project.write("main.hm", """
    import lib.m
    import "f.hm"
    task top(i=$lib.m.t.o) -> o:
      cat $i > $o
    """)
    project.run("run", "main.hm", "top", "g").ok()
    assert project.read("out/lib/m/t/default/o") == "from-module\n"
    assert project.read("out/top/default/o") == "from-module\n"
    assert project.read("out/g/default/o") == "file\n"


def test_decorators_custom_std_run_and_chained(project):
    project.write("main.hm", """
    import std
    object shout:
      def run(shout_inner):
        bash -e $shout_inner | tr a-z A-Z
    class tagged(tag):
      def run(tagged_inner):
        echo "[$tag]"; . $tagged_inner
    @std.run(interpreter="python3")
    task py -> o:
      import os
      open(os.environ["o"], "w").write("from python")
      print("printed")
    @shout
    @tagged(tag={T: one two})
    task t:
      echo "inner $tag"
    """)
    project.run("run", "py", "t[T: *]").ok()
    assert project.read("out/py/default/o") == "from python"
    assert project.read("out/py/default/stdout").strip() == "printed"
    assert project.read("out/t/default/stdout") == "[ONE]\nINNER ONE\n"
    assert project.read("out/t/T=two/stdout") == "[TWO]\nINNER TWO\n"
    assert project.read("out/t/default/script.0").strip() == 'echo "inner $tag"'
    assert project.path("out/t/default/script.1").exists()
    wrapped = project.read("out/t/default/args")
    assert "HYPERMAKE_JOB_WRAPPED_SCRIPTS='script.0 script.1'" in wrapped or "script.0 script.1" in wrapped


def test_nested_dicts_broadcast(project):
    project.write("main.hm", """
    v = {S: s={O: u=1 w=2} l=9}
    task t(v=$) -> o:
      echo $v > $o
    """)
    project.run("run", "t[S: *, O: *]").ok()
    assert project.read("out/t/O=w&S=l/o") == "9\n"
    assert project.read("out/t/O=w/o") == "2\n"


def test_ephemeral_job_dir_is_removed_after_the_run(project):
    project.write("main.hm", """
    ephemeral task tmp -> o:
      echo scratch > $o
    task keep(i=$tmp.o) -> o:
      cat $i > $o
    """)
    project.run("run", "keep").ok()
    assert project.read("out/keep/default/o") == "scratch\n"
    assert not project.path("out/tmp/default").exists()


def test_local_root_and_define_override(project, tmp_path):
    project.write("main.hm", """
    local.root = "runs"
    msg = hello
    task t(msg=$) -> o:
      echo $msg > $o
    """)
    project.run("run", "t").ok()
    assert project.read("runs/t/default/o") == "hello\n"
    other = tmp_path / "elsewhere"
    project.run("run", "t", "-D", f"local.root={other}", "-D", "msg=bye").ok()
    assert (other / "t/default/o").read_text() == "bye\n"


def test_environment_of_a_job(project):
    project.write("main.hm", """
    a = {A: x y}
    task t(a=$, q="it's") -> o:
      env | grep '^HYPERMAKE_JOB_' | sort > $o
    """)
    project.run("run", "t[A: y]").ok()
    env = dict(line.split("=", 1) for line in project.read("out/t/A=y/o").splitlines())
    assert env["HYPERMAKE_JOB_ID"] == "t?A=y"
    assert env["HYPERMAKE_JOB_CASE"] == "A: y"
    assert json.loads(env["HYPERMAKE_JOB_CASE_JSON"]) == {"A": "y"}
    assert env["HYPERMAKE_JOB_WD"] == str(project.path("out/t/A=y"))
    args = project.read("out/t/A=y/args")
    assert "q='it'\\''s'\n" in args


def test_run_record_is_written(project):
    project.write("main.hm", SWEEP)
    project.run("run", "u[A: y]").ok()
    runs = list(project.path("out/.runs").iterdir())
    assert len(runs) == 1
    assert project.read(f"out/.runs/{runs[0].name}/jobs").split("\n") == ["t?A=y", "u?A=y"]


def test_maintenance_commands(project):
    project.write("main.hm", SWEEP)
    project.run("run", "u").ok()
    project.run("invalidate", "t", "-y").ok()
    assert not project.path("out/t/default/exitcode").exists()
    assert not project.path("out/u/default/exitcode").exists()
    assert project.path("out/u/default/o").exists()          # outputs kept
    project.run("touch", "t", "-y").ok()
    assert project.read("out/t/default/exitcode") == "0"
    project.run("remove", "u", "-y").ok()
    assert not project.path("out/u/default").exists()
    project.path("out/t/default/.lock").write_text("")
    project.run("unlock", "t", "-y").ok()
    assert not project.path("out/t/default/.lock").exists()


def test_destructive_command_without_terminal_needs_yes(project):
    project.write("main.hm", SWEEP)
    result = project.sh("remove", "t", stdin=subprocess_devnull())
    assert result.code == 2 and "-y" in result.err


def subprocess_devnull():
    import subprocess

    return subprocess.DEVNULL


@pytest.mark.parametrize("order", [["main.hm", "run", "t"], ["run", "main.hm", "t"], ["-F", "main.hm", "run", "t"],
                                   ["run", "t", "-F", "main.hm"]])
def test_argument_orders(project, order):
    project.write("main.hm", SWEEP)
    project.write("other.hm", "x = 1\n")
    project.run(*order).ok()
    assert project.path("out/t/default/o").exists()


def test_no_pipeline_file(project):
    project.write("a.hm", "x = 1\n").write("b.hm", "x = 1\n")
    result = project.run("list").user_error()
    assert "No pipeline file specified." in result.err


@pytest.mark.parametrize("answer,code,removed", [("n\n", 0, False), ("y\n", 0, True), ("\x04", 1, False)])
def test_confirmation_prompt_on_a_terminal(project, answer, code, removed):
    import pty
    import subprocess
    import sys

    project.write("main.hm", SWEEP)
    project.run("run", "t").ok()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "hypermetric", "remove", "t"], cwd=project.root, stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    os.write(master, answer.encode())
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    assert "Continue? [y/n]: " in out
    assert proc.returncode == code
    assert project.path("out/t/default").exists() is not removed
