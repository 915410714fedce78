"""File-system names on inputs and outputs (`"path"@fs`, `-> o@fs`): roots, services named by `@fs`."""

from __future__ import annotations

from semantics.helpers import error, load, plan, var

FS = """
object store:
  root = "/remote/root"
  ephemeral task start -> sock:
    touch $sock
  ephemeral task stop(sock=$start.sock):
    true
"""


def test_outputs_on_another_file_system_use_its_root(tmp_path):
    src = FS + 'task t(src@store="data/x"@store, copy="data/x"@store) -> o@store:\n  touch $o\n'
    pipeline = load(tmp_path, src)
    assert pipeline.fs_roots == {"local": f"{tmp_path}/out", "store": "/remote/root"}
    graph = plan(tmp_path, src, "t")
    job = graph.jobs["t"]
    assert var(job, "o") == "/remote/root/t/default/o"
    assert var(job, "src") == "/remote/root/data/x"  # already where the task expects it
    assert var(job, "copy") == f"{tmp_path}/out/t/default/copy"  # transferred to the local job dir


def test_file_system_with_start_and_stop_is_a_service(tmp_path):
    graph = plan(tmp_path, FS + "task t -> o@store:\n  touch $o\n", "t")
    assert graph.jobs["t"].deps == ("store/start",)
    assert graph.jobs["store/stop"].deps == ("store/start", "t")


def test_file_system_needs_a_root(tmp_path):
    src = "object s:\n  x = 1\ntask t -> o@s:\n  touch $o\n"
    assert error(tmp_path, src)[2] == "file system `s` has no `root`"


def test_file_system_description_for_execution(tmp_path):
    src = ('class bucket(name, root=""):\n  separator = "/"\n  def read(file):\n    aws s3 cp s3://$name/$file -\n'
           '  def exists(file):\n    aws s3 ls s3://$name/$file\n'
           'object b = bucket(name=data, root="prefix")\ntask t -> o@b:\n  touch $o\n')
    fs = load(tmp_path, src).file_systems["b"]
    assert fs.root == "prefix" and fs.variables == (("name", "data"), ("root", "prefix"))
    assert fs.functions["read"] == (("file",), "aws s3 cp s3://$name/$file -")
    assert set(fs.functions) == {"read", "exists"} and fs.settings == (("separator", "/"),) and not fs.service
