"""What the planner hands execution for file systems, services and runners (the `Job` contract)."""

from __future__ import annotations

import pickle

from hypermetric import api
from hypermetric.plan.job import LOCAL

SERVICE = """
class srv(root, host):
  ephemeral task start -> sock:
    touch "$sock"
  ephemeral task stop(sock=$start.sock):
    true
  def exists(file, sock=$start.sock):
    test -e "$root/$file"
  def download(src, dst):
    cp "$root/$src" "$dst"
object s = srv(root="/srv/root", host="h")
object plain:
  root = "/plain"
  separator = "/"
  def exists(file):
    test -e "$root/$file"
"""


def _plan(project, text: str, *targets: str):
    project.write("main.hm", text)
    return api.plan(api.load(str(project.path("main.hm")), cwd=str(project.root)), list(targets))


def test_inputs_know_where_values_live_and_where_they_are_expected(project):
    graph = _plan(project, SERVICE + """
task t -> o@plain:
  true
task u(a=$t.o, b@plain=$t.o, c="x/y"@s) -> o:
  true
""", "u")
    job = graph.jobs["u"]
    links = {link.name: link for link in job.inputs}
    assert (links["a"].source_fs, links["a"].fs, links["a"].source) == ("plain", LOCAL, "t/default/o")
    assert (links["b"].source_fs, links["b"].fs) == ("plain", "plain")
    assert (links["c"].source_fs, links["c"].fs, links["c"].source) == ("s", LOCAL, "x/y")
    assert [spec.name for spec in job.file_systems] == ["plain", "s"]
    assert "s/start" in job.deps  # the value lives on a service's file system
    assert graph.jobs["s/stop"].after == ("u",)
    assert graph.jobs["t"].output_fs == (("o", "plain"),) and graph.jobs["t"].output_file_system("o") == "plain"


def test_file_system_specs_carry_functions_defaults_and_variables(project):
    graph = _plan(project, SERVICE + "task t -> o@s:\n  true\n", "t")
    spec = graph.jobs["t"].file_system("s")
    assert spec.root == "/srv/root" and spec.cwd == str(project.root) and spec.local_root == f"{project.root}/out"
    assert dict(spec.variables) == {"root": "/srv/root", "host": "h"}
    exists = spec.function("exists")
    assert exists is not None and exists.params == ("file", "sock")
    assert exists.defaults == (("sock", f"{project.root}/out/s/start/default/sock"),)
    assert spec.function("link") is None
    plain = _plan(project, SERVICE + "task t -> o@plain:\n  true\n", "t").jobs["t"].file_system("plain")
    assert dict(plain.variables) == {"root": "/plain", "separator": "/"}


def test_runner_spec_and_refresh_interval(project):
    text = """
class r(refresh_interval="5", queue="q"):
  def submit(script_file, wd):
    true
  def poll(handle):
    echo 0
object fast:
  refresh_interval = "0.5"
  def submit(script_file, wd):
    true
  def poll(handle):
    echo 0
@@r(refresh_interval="0.2")
task a:
  true
@@fast
task b:
  true
"""
    graph = _plan(project, text, "a", "b")
    a, b = graph.jobs["a"].runner, graph.jobs["b"].runner
    assert a is not None and a.refresh_interval == 0.2 and dict(a.variables)["queue"] == "q"
    assert b is not None and b.name == "fast" and b.refresh_interval == 0.5 and b.function("cancel") is None


def test_jobs_with_specs_pickle(project):  # a remote backend runs `execute_job` elsewhere
    graph = _plan(project, SERVICE + 'import runners\n@@runners.background()\ntask t(i="x"@s) -> o@plain:\n  true\n',
                  "t")
    job = graph.jobs["t"]
    assert pickle.loads(pickle.dumps(job)) == job and job.runner is not None
