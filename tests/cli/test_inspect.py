"""Golden output of the inspection commands on a small pipeline."""

from __future__ import annotations

import json
import textwrap

from hypermetric import __version__

PIPELINE = """
a = {A: x y z}
b = {B: 1 2}
task t(a=$) -> o:
  echo $a > $o
task u(i=$t.o, b=$) -> o:
  cat $i > $o
task r(d=$u[A: *].o) -> o:
  ls $d > $o
task lone -> o:
  touch $o
plan P = { r[B: *] lone }
"""


def test_list(project):
    project.write("main.hm", PIPELINE)
    out = project.run("list").ok().out
    assert out == textwrap.dedent(f"""\
        hypermetric {__version__} -- A parameterized pipeline manager
        Pipeline file: main.hm

        Variables:
          • A: {{ x y z }}
          • B: {{ 1 2 }}

        Tasks:
          • lone
          • t[A]
          └─• u[A, B]
            └─• r[B]
        """)


def test_dry_run_lists_jobs_in_order_with_status(project):
    project.write("main.hm", PIPELINE)
    project.run("run", "t").ok()
    out = project.run("dry-run", "P").ok().out.splitlines()
    assert out[1] == "The following 12 jobs are implied in the given target:"
    assert "• t[default] COMPLETE" in out
    assert "• u[A: y, B: 2] PENDING" in out
    assert out.index("• t[A: y] PENDING") < out.index("• u[A: y] PENDING") < out.index("• r[default] PENDING")
    assert out[-1] == "12 jobs: 1 COMPLETE, 11 PENDING"
    assert not project.path("out/r").exists()


def test_describe(project):
    project.write("main.hm", PIPELINE)
    data = json.loads(project.run("describe", "u[A: y]").ok().out)
    assert len(data) == 1
    job = data[0]
    assert list(job)[:7] == ["id", "name", "args", "status", "failureReason", "inputs", "outputs"]
    assert job["id"] == "u?A=y" and job["name"] == "u"
    assert job["args"] == {"A": "y", "B": "1"}
    assert job["status"] == "pending" and job["failureReason"] is None
    assert job["inputs"]["i"] == str(project.path("out/t/A=y/o"))
    assert job["inputs"]["b"] == "1"
    assert job["outputs"] == {"o": str(project.path("out/u/A=y/o"))}


def test_get_path(project):
    project.write("main.hm", PIPELINE)
    out = project.run("get-path", "t[A: y]", "u[A: x y, B: 2]").ok().out
    assert out.splitlines() == [str(project.path("out/t/A=y")), str(project.path("out/u/B=2")),
                                str(project.path("out/u/A=y&B=2"))]


def test_graph_formats(project):
    project.write("main.hm", PIPELINE)
    dot = project.run("graph").ok().out
    assert dot.startswith("digraph hypermetric {") and '"u[A, B]"' in dot and "->" in dot
    mermaid = project.run("graph", "--format", "mermaid", "r").ok().out
    assert mermaid.startswith("graph LR") and "-->" in mermaid and '"r"' in mermaid
