"""hypermetric.flow in-process (`parallel=False`): raygent's README, batching, payload types, failures, checks.

None of these start Ray; one test checks in a fresh interpreter that none of this imports it.
"""

from __future__ import annotations

import subprocess
import sys

import flow_tasks as ft
import numpy as np
import pyarrow as pa
import pytest

from hypermetric.flow import DAG, BatchMessage, NodeFailed, Task
from hypermetric.flow.batching import batches


def test_raygent_readme_example_gives_its_documented_sink_payloads_in_process():
    printed = ft.readme_example(parallel=False)
    assert ft.by_sink(printed) == ft.README_PAYLOADS
    assert sorted((sink, index) for sink, index, _ in printed) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_sequential_mode_never_imports_ray():
    code = ("import sys, flow_tasks as ft\n"
            "assert ft.by_sink(ft.readme_example(parallel=False)) == ft.README_PAYLOADS\n"
            "assert ft.SquareTask().run([1, 2, 3], batch_size=2, parallel=False) == [[1, 4], [9]]\n"
            "print(sorted(m for m in ('ray', 'pyarrow') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ft.__file__.rsplit("/", 1)[0])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_flow_imports_only_itself_the_runtime_and_the_foundation():
    """`flow` sits beside `runtime` (whose Ray connection it shares), below the pipeline layers."""
    import ast
    from pathlib import Path

    import hypermetric.flow

    allowed = {"flow", "runtime", "errors", "diagnostic", "source", "suggest"}
    for path in Path(hypermetric.flow.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        used = {node.module.split(".")[1] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hypermetric.")}
        assert used <= allowed, (path.name, used - allowed)


def test_task_run_in_process_gives_one_result_per_batch_in_order_with_kwargs():
    assert ft.PrefactorTask().run(range(7), batch_size=3, parallel=False, task_kwargs={"factor": 10}) == [
        [0, 10, 20], [30, 40, 50], [60]]
    assert ft.CombineTask().run([1, 2], [3, 4], batch_size=1, parallel=False) == [
        {"a": [1], "b": [3]}, {"a": [2], "b": [4]}]
    assert ft.SquareTask().run([], parallel=False) == []
    assert ft.SquareTask().run_batch(4, [3]) == BatchMessage(4, [9])


def test_batches_keep_the_type_of_sliceable_streams_and_read_iterators_lazily():
    array_parts = [parts[0] for _, parts in batches((np.arange(5),), 2)]
    assert [part.tolist() for part in array_parts] == [[0, 1], [2, 3], [4]]
    assert all(isinstance(part, np.ndarray) for part in array_parts)
    table_parts = [parts[0] for _, parts in batches((pa.table({"x": [1, 2, 3]}),), 2)]
    assert [part.num_rows for part in table_parts] == [2, 1] and isinstance(table_parts[0], pa.Table)
    counted = ft.Counted(10)
    stream = batches((counted,), 3)
    assert next(stream) == (0, ([0, 1, 2],)) and counted.read == 3
    assert list(batches(([[1, 2], [3]],), 99, prebatched=True)) == [(0, ([1, 2],)), (1, ([3],))]


@pytest.mark.parametrize("streams", [([1, 2, 3], [1, 2]), ([1, 2, 3, 4, 5], iter([1, 2, 3]))])
def test_streams_of_different_lengths_are_refused(streams):
    with pytest.raises(ValueError, match="different lengths"):
        list(batches(streams, 2))


def test_numpy_and_arrow_payloads_flow_through_in_process():
    dag = DAG(parallel=False)
    source, queue = dag.add_source()
    scaled = dag.add(ft.Scale(), inputs=source, task_kwargs={"by": 3})
    out = dag.add_sink(scaled)
    dag.start()
    got = {m.index: m.payload for _, m in dag.stream(np.arange(6.0), source_queues=[queue], sink_queues=[out],
                                                      batch_size=4)}
    assert [got[0].tolist(), got[1].tolist()] == [[0.0, 3.0, 6.0, 9.0], [12.0, 15.0]]
    table = pa.table({"x": [1, 2, 3]})
    assert ft.TableStats().run(table, batch_size=2, parallel=False)[1].to_pydict() == {"x": [3], "double": [6]}


def test_a_failing_node_is_reported_with_its_batch_and_downstream_nodes_are_not_blamed():
    dag = DAG(parallel=False)
    source, queue = dag.add_source()
    bad = dag.add(ft.FailOn(bad=6), inputs=source, name="picky")
    after = dag.add(ft.SquareTask(), inputs=bad)
    sink = dag.add_sink(after)
    dag.start()
    seen = []
    with pytest.raises(NodeFailed) as failure:
        for _, message in dag.stream(range(10), source_queues=[queue], sink_queues=[sink], batch_size=2,
                                     max_inflight=1):
            seen.append(message.index)
    assert (failure.value.node, failure.value.index) == ("picky", 3)
    assert isinstance(failure.value.__cause__, ValueError) and "cannot take 6" in str(failure.value)
    assert seen == [0, 1, 2]


def test_backpressure_in_process_reads_one_batch_ahead_at_most():
    counted = ft.Counted(20)
    read_at_each_message = [counted.read for _ in ft_stream(counted, max_inflight=1)]
    assert read_at_each_message == [4, 8, 12, 16, 20]


def ft_stream(data, max_inflight):
    dag = DAG(parallel=False)
    source, queue = dag.add_source()
    sink = dag.add_sink(dag.add(ft.SquareTask(), inputs=source))
    dag.start()
    return dag.stream(data, source_queues=[queue], sink_queues=[sink], batch_size=4, max_inflight=max_inflight)


class NoDo:
    pass


class TwoInputs(Task):
    def do(self, a, b):
        return a


def test_wiring_mistakes_are_refused_when_made():
    dag = DAG(parallel=False)
    source, queue = dag.add_source()
    with pytest.raises(ValueError, match=r"cannot take 1 input"):
        dag.add(TwoInputs(), inputs=source)
    with pytest.raises(ValueError, match=r"cannot take 1 input\(s\) and keyword arguments \['nope'\]"):
        dag.add(ft.SquareTask(), inputs=source, task_kwargs={"nope": 1})
    with pytest.raises(TypeError, match="has no do"):
        dag.add(NoDo(), inputs=source)
    with pytest.raises(ValueError, match="another DAG"):
        dag.add(ft.SquareTask(), inputs=DAG().add_source()[0])
    with pytest.raises(ValueError, match="n_workers"):
        dag.add(ft.SquareTask(), inputs=source, n_workers=0)
    node = dag.add(ft.SquareTask(), inputs=source, name="sq")
    with pytest.raises(ValueError, match="duplicate node name"):
        dag.add(ft.SquareTask(), inputs=source, name="sq")
    sink = dag.add_sink(node)
    with pytest.raises(RuntimeError, match="must be started"):
        dag.stream([1], source_queues=[queue], sink_queues=[sink])
    dag.start()
    with pytest.raises(RuntimeError, match="cannot change a running DAG"):
        dag.add_source()
    with pytest.raises(ValueError, match="sink_wait"):
        dag.stream([1], source_queues=[queue], sink_queues=[sink], sink_wait=0)
    with pytest.raises(ValueError, match="2 data stream"):
        dag.stream([1], [2], source_queues=[queue], sink_queues=[sink])
    dag.stop()


def test_a_source_that_feeds_nodes_must_get_data():
    dag = DAG(parallel=False)
    first, first_queue = dag.add_source(name="first")
    second, _ = dag.add_source(name="second")
    sink = dag.add_sink(dag.add(ft.CombineTask(), inputs=(first, second)))
    dag.start()
    with pytest.raises(ValueError, match=r"\['second'\] feed the DAG but get no data"):
        dag.stream([1], source_queues=[first_queue], sink_queues=[sink])


def test_a_task_without_do_cannot_be_made():
    from hypermetric.flow import Task

    class Empty(Task):
        pass

    with pytest.raises(TypeError, match="do"):
        Empty()
