"""A value that is a path into a job's directory counts as that job's output; values are not dependencies,
so such paths can point back: into the job's own directory (a plain value), or around a loop of jobs (an
error naming the job, never an endless walk)."""

from __future__ import annotations

import pytest
from semantics.helpers import load

from hypermetric import api
from hypermetric.errors import CycleError
from hypermetric.plan.signature import Signer


def _graph(tmp_path, source: str, targets: list[str]):
    root = tmp_path / "out"
    root.mkdir()
    return api.plan(load(tmp_path, source.replace("ROOT", str(root))), targets)


def test_a_value_naming_the_jobs_own_directory_is_a_plain_value(tmp_path):
    graph = _graph(tmp_path, 'task t(p="ROOT/t/default/x") -> o:\n  echo $p > $o\n', ["t"])
    (job_id,) = graph.order()
    signature = Signer(graph).signature(job_id)
    assert signature.built_from["values"] == {"p": f"{tmp_path}/out/t/default/x"}
    assert signature.built_from["inputs"] == {}
    assert Signer(graph).digest(job_id) == signature.digest


@pytest.mark.parametrize("first", ["a", "b"])
def test_jobs_whose_values_name_each_others_outputs_are_an_error(tmp_path, first):
    source = ('task a(p="ROOT/b/default/o") -> o:\n  echo $p > $o\n'
              'task b(p="ROOT/a/default/o") -> o:\n  echo $p > $o\n')
    graph = _graph(tmp_path, source, ["a", "b"])
    with pytest.raises(CycleError, match="would be built from its own outputs"):
        Signer(graph).signature(first)
    with pytest.raises(CycleError):
        Signer(graph).digest(first)


def test_a_value_naming_a_downstream_jobs_output_is_an_error(tmp_path):
    source = ('task a(p="ROOT/c/default/o") -> o:\n  echo $p > $o\n'
              'task c(x=$a.o) -> o:\n  cat $x > $o\n')
    graph = _graph(tmp_path, source, ["c"])
    with pytest.raises(CycleError, match="job a"):
        Signer(graph).signature("c")


def test_a_value_naming_an_upstream_output_still_counts_as_an_input(tmp_path):
    source = ('task a -> o:\n  echo hi > $o\n'
              'task b(p="ROOT/a/default/o") -> o:\n  cat $p > $o\n')
    graph = _graph(tmp_path, source, ["a", "b"])
    signer = Signer(graph)
    assert signer.signature("b").built_from["inputs"] == {"p": ["a.o", signer.digest("a")]}
