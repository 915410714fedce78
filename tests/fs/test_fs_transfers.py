"""Inputs and outputs on custom file systems (transfers and the file-system functions), with directory-backed file-system objects."""

from __future__ import annotations

import logging
import os

from dirfs import calls, dirfs_class, objects


def _pipeline(project, body: str, *names: str, link: bool = True) -> None:
    project.write("main.hm", dirfs_class(link=link) + objects(project.root, *names) + body)


def test_input_on_one_fs_output_on_another_runs_caches_and_removes_both_sides(project):
    (project.root / "a").mkdir()
    (project.root / "a/corpus.txt").write_text("one two three\n")
    _pipeline(project, """
corpus = "corpus.txt"@a
task count(text=$corpus) -> n@b:
  wc -w < "$text" > "$n"
task report(n=$count.n) -> r:
  cat "$n" > "$r"
""", "a", "b")
    project.run("run", "report").ok()
    assert project.read("b/count/default/n").strip() == "3"
    assert project.read("out/report/default/r").strip() == "3"
    assert "download corpus.txt count/default/text" in calls(project.root, "a")
    assert calls(project.root, "b")[:1] == ["mkdir count/default"]
    assert "download count/default/n report/default/n" in calls(project.root, "b")
    again = project.run("run", "report").ok()
    assert "RUNNING" not in again.out
    project.run("remove", "count", "-y").ok()
    assert not project.path("out/count/default").exists()
    assert not project.path("b/count/default").exists() and "remove count/default" in calls(project.root, "b")
    assert "• count[default] PENDING" in project.run("dry-run", "count").out


def test_variables_hold_the_original_or_the_copy(project):
    _pipeline(project, """
task t -> o@a:
  echo x > "$o"
task same(i@a=$t.o) -> o@a:
  echo "$i" > "$o"
task copied(i=$t.o) -> o:
  echo "$i" > "$o"
""", "a")
    project.run("run", "same", "copied").ok()
    assert project.read("a/same/default/o").strip() == f"{project.root}/a/t/default/o"
    assert project.read("out/copied/default/o").strip() == f"{project.root}/out/copied/default/i"
    assert "link t/default/o same/default/i" in calls(project.root, "a")
    assert os.path.islink(project.path("a/same/default/i"))


def test_missing_link_writes_a_text_file_on_the_target_fs(project):  # HyperMake writes it on local
    _pipeline(project, """
task t -> o@c:
  echo x > "$o"
task u(i@c=$t.o) -> o@c:
  cp "$i" "$o"
""", "c", link=False)
    project.run("run", "u").ok()
    assert project.read("c/u/default/i") == "t/default/o"
    last = calls(project.root, "c")[-1]
    assert last.startswith("upload /") and last.endswith(" u/default/i")


def test_upload_copy_function_and_download_upload_fallback(project):
    _pipeline(project, f"""
def copy_from_a_to_c(src, dst):
  echo "copy $src $dst" >> {project.root}/copies
  mkdir -p "$(dirname {project.root}/c/$dst)"
  cp {project.root}/a/$src {project.root}/c/$dst
task t -> o:
  echo local > "$o"
task up(i@a=$t.o) -> o@a:
  cat "$i" > "$o"
task via_temp(i@b=$up.o) -> o@b:
  cat "$i" > "$o"
task via_function(i@c=$up.o) -> o@c:
  cat "$i" > "$o"
""", "a", "b", "c")
    project.run("run", "via_temp", "via_function").ok()
    assert "upload t/default/o up/default/i" in calls(project.root, "a")
    assert any(c.startswith("download up/default/o /") for c in calls(project.root, "a"))
    uploads = [c for c in calls(project.root, "b") if c.startswith("upload /")]
    assert [c.split()[-1] for c in uploads] == ["via_temp/default/i"]
    assert project.read("copies") == "copy up/default/o via_function/default/i\n"
    assert project.read("b/via_temp/default/o") == project.read("c/via_function/default/o") == "local\n"


def test_reductions_across_file_systems(project):
    _pipeline(project, """
x = {X: 1 2}
task t(x=$) -> o@a:
  echo "$x" > "$o"
task remote(d@b=$t[X: *].o) -> o@b:
  ls "$d" > "$o"
task here(d=$t[X: *].o) -> o:
  cat "$d/default" "$d/X=2" > "$o"
""", "a", "b")
    project.run("run", "remote", "here").ok()
    assert "mkdir remote/default/d" in calls(project.root, "b")
    assert project.read("b/remote/default/o").split() == ["X=2", "default"]
    assert project.read("out/here/default/o") == "1\n2\n"


def test_outputs_are_checked_and_touched_on_their_fs(project):
    _pipeline(project, """
task t -> o@a:
  true
""", "a")
    result = project.run("run", "t")
    assert result.code == 1 and 'FAILED: output {o = "o"@a} missing' in result.out
    project.run("touch", "t", "-y").ok()
    assert project.path("a/t/default/o").is_file() and "touch t/default/o" in calls(project.root, "a")
    assert "• t[default] COMPLETE" in project.run("dry-run", "t").out


def test_an_output_check_that_cannot_run_is_a_check_error(project):
    project.write("main.hm", """
object bad:
  root = "/nowhere"
  def mkdir(dir):
    true
task t -> o@bad:
  true
""")
    result = project.run("run", "t")
    assert result.code == 1
    assert "FAILED: error encountered when checking status of outputs" in result.out


def test_each_call_is_logged(project, caplog):  # shown with `-v`
    (project.root / "a").mkdir()
    (project.root / "a/in.txt").write_text("x\n")
    _pipeline(project, """
task t(i="in.txt"@a) -> o:
  cp "$i" "$o"
""", "a")
    with caplog.at_level(logging.INFO, logger="hypermetric.fs"):
        project.run("run", "t").ok()
    messages = [r.getMessage() for r in caplog.records]
    assert "❯ Calling a.download in.txt t/default/i" in messages
    assert "❮ Returned 0 from a.download in.txt t/default/i" in messages


def test_calls_can_be_forwarded_for_the_verbose_view(project):
    from hypermetric.store.fscall import log_calls

    (project.root / "a").mkdir()
    _pipeline(project, "task t -> o@a:\n  echo x > $o\n", "a")
    lines: list[str] = []
    undo = log_calls(lines.append)
    try:
        project.run("run", "t").ok()
    finally:
        undo()
    assert lines == ["❯ Calling a.mkdir t/default", "❮ Returned 0 from a.mkdir t/default",
                     "❯ Calling a.exists t/default/o", "❮ Returned 0 from a.exists t/default/o"]
