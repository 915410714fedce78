"""The execution suite on both backends (`local`, `ray`); what only Ray does is in `test_ray_backend_only`."""

from __future__ import annotations

import json
import os

from support.waiting import rendezvous

SWEEP = """
a = {A: x y z}
task t(a=$) -> o:
  echo "$a" > $o
task u(i=$t.o) -> o:
  cat $i > $o; echo u >> $o
task r(d=$t[A: *].o) -> o:
  ls $d > $o
"""


def run(project, backend: str, *args: str):
    return project.run("run", *args, "--backend", backend)


def job_json(project, path: str) -> dict:
    return json.loads(project.read(path, "job.json"))


# The same pipelines on both backends.

def test_default_case(project, backend):
    project.write("main.hm", SWEEP)
    run(project, backend, "t").ok()
    assert project.read("out/t/default/o") == "x\n"
    assert project.read("out/t/default/exitcode") == "0"
    for name in ("script", "args", "stdout", "stderr", "exitcode", "job.json"):
        assert project.path("out/t/default", name).exists(), name
    assert not project.path("out/t/default/.lock").exists()
    assert not project.path("out/t/A=y").exists()
    assert ("node" in job_json(project, "out/t/default")) == (backend == "ray")


def test_sweep_in_parallel_and_cached_rerun(project, backend):
    project.write("main.hm", SWEEP)
    run(project, backend, "u[A: *]", "-j2").ok()
    for case, key in (("default", "x"), ("A=y", "y"), ("A=z", "z")):
        assert project.read(f"out/u/{case}/o") == f"{key}\nu\n"
        assert os.path.islink(project.path(f"out/u/{case}/i"))
    stamp = project.read("out/t/A=y/job.json")
    assert "RUNNING" not in run(project, backend, "u[A: *]", "-j2").ok().out
    assert project.read("out/t/A=y/job.json") == stamp


def test_reduction(project, backend):
    project.write("main.hm", SWEEP)
    run(project, backend, "r", "-j3").ok()
    assert project.read("out/r/default/o").split() == ["A=y", "A=z", "default"]
    link = project.path("out/r/default/d/A=y")
    assert os.path.islink(link) and not os.path.isabs(os.readlink(link))


def test_failure_missing_output_and_rerun(project, backend):
    project.write("main.hm", """
    task bad -> o:
      echo oops >&2; exit 3
    task lazy -> o:
      echo nothing
    """)
    result = run(project, backend, "bad")
    assert result.code == 1 and "exit code 3" in result.out + result.err
    assert project.read("out/bad/default/exitcode") == "3"
    project.path("out/bad/default/junk").write_text("stale")
    assert run(project, backend, "bad").code == 1
    assert not project.path("out/bad/default/junk").exists()
    result = run(project, backend, "lazy")
    assert result.code == 1 and 'output {o = "o"@local} missing' in result.out + result.err


def test_keep_going(project, backend):
    project.write("main.hm", """
    task bad -> o:
      exit 1
    task after(i=$bad.o) -> o:
      touch $o
    task other -> o:
      touch $o
    plan all = { after other }
    """)
    result = run(project, backend, "all", "-k")
    assert result.code == 1 and "SKIPPED" in result.out + result.err
    assert project.path("out/other/default/o").exists()
    assert not project.path("out/after/default").exists()


def test_decorators(project, backend):
    project.write("main.hm", """
    import std
    object shout:
      def run(shout_inner):
        bash -e $shout_inner | tr a-z A-Z
    @std.run(interpreter="python3")
    task py -> o:
      import os
      open(os.environ["o"], "w").write("from python")
    @shout
    task t(tag={T: one two}):
      echo "inner $tag"
    """)
    run(project, backend, "py", "t[T: *]", "-j2").ok()
    assert project.read("out/py/default/o") == "from python"
    assert project.read("out/t/T=two/stdout") == "INNER TWO\n"


def test_packages_plans_and_objects(project, backend):
    project.write("main.hm", """
    package tool -> out:
      mkdir -p $out; echo 'echo tool-ran' > $out/run.sh
    object grp:
      task t(tool=$tool) -> o:
        bash $tool/run.sh > $o
    plan P = { grp.t }
    """)
    run(project, backend, "P").ok()
    assert project.read("out/grp/t/default/o") == "tool-ran\n"


def test_ephemeral(project, backend):
    project.write("main.hm", """
    ephemeral task tmp -> o:
      echo scratch > $o
    task keep(i=$tmp.o) -> o:
      cat $i > $o
    """)
    run(project, backend, "keep").ok()
    assert project.read("out/keep/default/o") == "scratch\n"
    assert not project.path("out/tmp/default").exists()


def test_retries_record_the_attempt(project, backend):
    project.write("main.hm", f"""
    task flaky -> o:
      n=$(cat {project.root}/count 2>/dev/null || echo 0)
      echo $((n + 1)) > {project.root}/count
      [ "$n" -ge 1 ] || exit 1
      touch $o
    """)
    result = run(project, backend, "flaky", "--retries", "2").ok()
    assert "will retry" in result.out + result.err
    assert job_json(project, "out/flaky/default")["attempt"] == 2
    assert project.read("count") == "2\n"


def test_output_lines_reach_the_progress_view(project, backend):
    project.write("main.hm", """
    task t -> o:
      echo hello out; echo hello err >&2; printf 'no newline'
      touch $o
    """)
    out = run(project, backend, "t").ok().out
    for line in ("t[default]> hello out", "t[default]> hello err", "t[default]> no newline"):
        assert line in out, out
    assert "hello" not in run(project, backend, "t", "-s").out


def gpu_pipeline(project, gpus: str) -> None:
    """Two jobs asking for `gpus` each, that wait for each other (so they hold their GPUs at once)."""
    project.write("both.sh", rendezvous(project.path("started"), "$1", 2))
    project.write("main.hm", f"""
    import resources
    n = {{N: 1 2}}
    @resources.resources(gpus="{gpus}")
    task g(n=$) -> o:
      bash {project.root}/both.sh $n
      echo "${{CUDA_VISIBLE_DEVICES-unset}}" > $o
    """)


def test_gpu_jobs_get_their_own_devices(project, backend, monkeypatch):
    monkeypatch.setenv("HYPERMETRIC_GPUS", "2")  # the local machine; the Ray head node has 2 logical GPUs
    gpu_pipeline(project, "1")
    run(project, backend, "g[N: *]", "-j2").ok()
    assert sorted(project.read(f"out/g/{c}/o").strip() for c in ("default", "N=2")) == ["0", "1"]


def test_fractional_gpus_share_a_device_locally(project, monkeypatch):
    from hypermetric.execution.gpu_devices import pick_devices

    assert pick_devices([0.0, 0.0], 0.5) == ([0], 0.5)
    assert pick_devices([0.5, 0.0], 0.5) == ([0], 0.5)
    assert pick_devices([0.75, 0.0], 0.5) == ([1], 0.5)
    assert pick_devices([1.0, 0.0, 0.0], 2) == ([1, 2], 1.0)
    assert pick_devices([0.5, 0.0], 3) == ([0, 1], 1.0)
    monkeypatch.setenv("HYPERMETRIC_GPUS", "1")
    gpu_pipeline(project, "0.5")
    run(project, "local", "g[N: *]", "-j2").ok()
    assert [project.read(f"out/g/{c}/o").strip() for c in ("default", "N=2")] == ["0", "0"]
