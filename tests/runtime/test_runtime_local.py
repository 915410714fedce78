"""The runtime in-process (`parallel=False`): the table, retries, max_runs, resume, summary, flat memory."""

from __future__ import annotations

import json
import math
import sys
import time
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import runtime_helpers as h

from hypermetric.runtime import Dataset, RunResult, component, runtime


def run_local(fn, tmp_path: Path, rows, name: str = "out", **options) -> RunResult:
    """Runs `fn` in-process over `rows`, with its arguments taken from the same-named dataset fields."""
    settings = {"parallel": False, "output_dir": tmp_path / name, "delay_seconds": 0, "quiet": True,
                **options}
    dataset = rows if isinstance(rows, Dataset) else Dataset.from_records(rows)
    return runtime(dataset=dataset, **settings)(fn)(**_fields(fn))


def _fields(fn) -> dict[str, object]:
    import inspect

    return {name: Dataset.field(name) for name in inspect.signature(fn).parameters}


def test_table_has_one_row_per_dataset_row_with_inputs_outputs_metrics_and_status(tmp_path):
    rows = h.records(10)
    result = run_local(h.pipeline, tmp_path, rows)
    table = result.table
    assert table.num_rows == 10 and result.rows == 10 and result.ran == 10
    assert table.column("row_id").to_pylist() == list(range(10))
    assert table.column("input.query").to_pylist() == [r["query"] for r in rows]
    assert table.column("output").to_pylist() == [r["query"].upper() for r in rows]
    assert table.column("answer.output").to_pylist() == [r["query"].upper() for r in rows]
    expected = [float(r["query"].upper() == r["answer"]) for r in rows]
    assert table.column("answer.ExactMatch").to_pylist() == expected
    assert table.column("answer.Length.chars").to_pylist() == [float(len(r["query"])) for r in rows]
    assert "retrieve.Overlap" in table.column_names and "retrieve.output" in table.column_names
    assert table.column("error").null_count == 10 and table.column("attempts").to_pylist() == [1] * 10
    assert table.schema.field("answer.ExactMatch").type == "double"
    assert pq.read_table(result.path).equals(table)


def test_workers_scoring_their_own_batches_give_the_same_table(tmp_path):
    separate = run_local(h.pipeline, tmp_path, h.records(25), name="separate", workers=3, batch_size=4,
                         flush_rows=6)
    own = run_local(h.pipeline, tmp_path, h.records(25), name="own", workers=3, batch_size=4, flush_rows=6,
                    evaluators=0)
    assert own.table.equals(separate.table) and h.same_metrics(own.metrics, separate.metrics)
    assert {p.name.split("-")[2] for p in (own.output_dir / "parts").iterdir()} == {
        "e000g000", "e001g000", "e002g000"}  # one evaluator in each worker


def test_metric_errors_are_recorded_per_row_and_counted_in_the_summary(tmp_path):
    result = run_local(h.pipeline, tmp_path, h.records(15))
    errors = result.table.column("eval_errors").to_pylist()
    empty_rows = [i for i in range(15) if i % 7 == 0]
    assert [i for i, e in enumerate(errors) if e] == empty_rows
    assert json.loads(errors[0]) == {"answer.Fussy": "ValueError: empty output"}
    assert result.table.column("answer.Fussy").to_pylist()[0] is None
    fussy = result.metrics["answer.Fussy"]
    assert (fussy.count, fussy.errors, fussy.mean) == (15 - len(empty_rows), len(empty_rows), 1.0)
    exact = result.metrics["answer.ExactMatch"]
    expected = [float(r["query"].upper() == r["answer"]) for r in h.records(15)]
    assert exact.mean == pytest.approx(sum(expected) / 15) and exact.errors == 0


def test_flaky_function_succeeds_on_attempt_two(tmp_path):
    rows = [{"query": q} for q in ("a", "b", "c")]
    run = runtime(dataset=Dataset.from_records(rows), parallel=False, output_dir=tmp_path / "out",
                  delay_seconds=0.05, quiet=True, exception_to_retry=ConnectionError)(h.flaky)
    result = run(query=Dataset.query, marker_dir=str(tmp_path))
    table = result.table
    assert table.column("attempts").to_pylist() == [2, 2, 2]
    assert table.column("error").to_pylist() == [None, None, None]
    assert table.column("output").to_pylist() == ["A", "B", "C"]
    assert result.seconds >= 3 * 0.05  # each retry waited its delay


def test_retries_stop_at_the_limit(tmp_path):
    calls: list[str] = []

    def always_fails(query: str) -> str:
        calls.append(query)
        raise TimeoutError("still down")

    result = run_local(always_fails, tmp_path, [{"query": "a"}], max_retries=2)
    assert len(calls) == 3
    assert result.table.column("attempts").to_pylist() == [3]
    assert result.table.column("error").to_pylist() == ["TimeoutError: still down"]
    assert result.failed == 1


def test_only_exception_to_retry_is_retried(tmp_path):
    run = runtime(dataset=Dataset.from_records([{"x": i} for i in range(4)]), parallel=False, quiet=True,
                  output_dir=tmp_path / "out", delay_seconds=0, exception_to_retry=ValueError)(h.picky)
    table = run(x=Dataset.x, marker_dir=str(tmp_path)).table
    assert table.column("attempts").to_pylist() == [2, 1, 2, 1]
    assert table.column("output").to_pylist() == [0, None, 20, None]
    assert table.column("error").to_pylist() == [None, "KeyError: odd 1", None, "KeyError: odd 3"]


def test_max_runs_limits_rows_and_a_later_run_does_the_rest(tmp_path):
    rows = [{"x": i} for i in range(10)]
    options = {"dataset": Dataset.from_records(rows), "parallel": False, "quiet": True,
               "output_dir": tmp_path / "out"}
    first = runtime(max_runs=4, batch_size=3, **options)(h.square_or_fail)(x=Dataset.x, fail_on=-1)
    assert first.table.column("row_id").to_pylist() == [0, 1, 2, 3] and first.ran == 4
    rest = runtime(max_runs=math.inf, **options)(h.square_or_fail)(x=Dataset.x, fail_on=-1)
    assert (rest.ran, rest.skipped, rest.rows) == (6, 4, 10)
    assert rest.table.column("output").to_pylist() == [i * i for i in range(10)]


def test_resume_skips_recorded_rows_and_reruns_failed_ones(tmp_path):
    rows = [{"x": i} for i in range(8)]
    seen: list[int] = []

    def square(x: int, fail_on: int) -> int:
        seen.append(x)
        return h.square_or_fail(x, fail_on)

    run = runtime(dataset=Dataset.from_records(rows), parallel=False, quiet=True, output_dir=tmp_path / "out",
                  max_retries=0)(square)
    first = run(x=Dataset.x, fail_on=5)
    assert first.failed == 1 and first.table.column("error").to_pylist()[5] == "RuntimeError: row 5 is broken"
    seen.clear()
    second = run(x=Dataset.x, fail_on=-1)
    assert seen == [5] and (second.ran, second.skipped, second.failed) == (1, 7, 0)
    assert second.table.column("output").to_pylist() == [i * i for i in range(8)]
    assert second.table.column("row_id").to_pylist() == list(range(8))
    seen.clear()
    third = run(x=Dataset.x, fail_on=-1)
    assert seen == [] and third.ran == 0 and third.table.equals(second.table)


def test_resume_false_runs_every_row_again(tmp_path):
    seen: list[int] = []

    def record(x: int) -> int:
        seen.append(x)
        return x

    options = {"dataset": Dataset.from_records([{"x": i} for i in range(3)]), "parallel": False,
               "quiet": True, "output_dir": tmp_path / "out"}
    runtime(**options)(record)(x=Dataset.x)
    result = runtime(resume=False, **options)(record)(x=Dataset.x)
    assert seen == [0, 1, 2, 0, 1, 2] and result.rows == 3


def test_parts_are_flushed_at_the_row_threshold(tmp_path):
    result = run_local(h.square_or_fail, tmp_path, [{"x": i, "fail_on": -1} for i in range(50)],
                       batch_size=5, flush_rows=10)
    parts = sorted((result.output_dir / "parts").glob("part-*.parquet"))
    assert len(parts) == 5 and all(pq.read_metadata(p).num_rows == 10 for p in parts)
    assert result.table.num_rows == 50


def test_parts_are_flushed_at_the_byte_threshold(tmp_path):
    rows = [{"text": "x" * 1000} for _ in range(20)]
    result = run_local(lambda text: text, tmp_path, rows, batch_size=2, flush_bytes=5000)
    assert len(list((result.output_dir / "parts").glob("part-*.parquet"))) >= 4
    assert result.table.num_rows == 20


def test_summary_is_printed_unless_quiet(tmp_path, capsys):
    run_local(h.pipeline, tmp_path, h.records(6), name="loud", quiet=False)
    out = capsys.readouterr().out
    assert "6 rows (6 run, 0 skipped, 0 failed)" in out
    assert "answer.ExactMatch" in out and "errors" in out
    run_local(h.pipeline, tmp_path, h.records(6), name="quiet", quiet=True)
    assert capsys.readouterr().out == ""


def test_outputs_of_any_type_fit_in_the_table(tmp_path):
    values = [{"a": 1}, [1, 2], None, 3, "text", 2.5, b"raw", object]
    result = run_local(lambda i: values[i], tmp_path, [{"i": i} for i in range(len(values))], batch_size=3)
    column = result.table.column("output").to_pylist()
    assert column[:3] == ['{"a": 1}', "[1, 2]", None]
    assert column[3] == "3" and column[4] == "text" and column[7] == repr(object)


def test_component_called_twice_in_a_row_keeps_the_mean_and_last_output(tmp_path):
    from hypermetric.runtime import Metric

    class Value(Metric):
        def score(self, value: float) -> float:
            return value

    @component(evals=[Value().use(value=component.output())])
    def half(x: float) -> float:
        return x / 2

    result = run_local(lambda x: half(x) + half(x + 2), tmp_path, [{"x": 4}])
    assert result.table.column("half.Value").to_pylist() == [2.5]
    assert result.table.column("half.output").to_pylist() == [3.0]


def test_missing_dataset_field_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no field 'query'.*fields: x"):
        run_local(lambda query: query, tmp_path, [{"x": 1}])


def test_ground_truth_field_missing_is_a_metric_error_not_a_crash(tmp_path):
    result = run_local(h.answer, tmp_path, [{"query": "q"}])
    errors = json.loads(result.table.column("eval_errors")[0].as_py())
    assert errors["answer.ExactMatch"].startswith("KeyError: the dataset has no field 'answer'")


def test_empty_dataset_gives_an_empty_table(tmp_path):
    result = run_local(lambda query: query, tmp_path, [])
    assert result.rows == 0 and result.table.num_rows == 0 and "row_id" in result.table.column_names


def _peak_traced(tmp_path: Path, rows: int) -> int:
    dataset = Dataset.from_generator(lambda: ({"x": i} for i in range(rows)))
    tracemalloc.start()
    try:
        run_local(h.cheap, tmp_path, dataset, name=f"mem{rows}", batch_size=500, flush_rows=1000,
                  max_in_flight=1000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_dataset_grows(tmp_path):
    # Rows held anywhere would cost ten times as much in the larger run; what does grow is bookkeeping per
    # batch (about a hundred bytes each, for reconciliation to order them), hence batches of 500 rows.
    _peak_traced(tmp_path, 100)  # imports and caches, so that they count in neither measurement
    small, large = _peak_traced(tmp_path, 2_000), _peak_traced(tmp_path, 20_000)
    assert large < 1.5 * small, (small, large)


def test_the_local_mode_reports_its_in_flight_peak(tmp_path):
    start = time.monotonic()
    result = run_local(h.identity, tmp_path, [{"x": i} for i in range(100)], batch_size=10, max_in_flight=30)
    assert result.peak_in_flight_rows <= 30 and result.seconds <= time.monotonic() - start + 0.01


def test_components_called_from_threads_the_function_starts_are_captured(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def fan_out(query: str) -> list[str]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(h.answer, [query, query + "!"]))

    result = run_local(fan_out, tmp_path, [{"query": "ab", "answer": "AB"}, {"query": "c", "answer": "C"}])
    assert result.table.column("answer.ExactMatch").to_pylist() == [0.5, 0.5]
    assert result.table.column("answer.Length.chars").to_pylist() == [2.5, 1.5]


def test_metric_arguments_reach_score_by_name_whatever_the_binding_order(tmp_path):
    from hypermetric.runtime import Metric

    class Difference(Metric):
        def score(self, a: float, b: float) -> float:
            return a - b

    class Weighted(Metric):
        def score(self, a: float, b: float = 1.0, c: float = 0.0) -> float:
            return a * b + c

    @component(evals=[Difference().use(b=component.input("x"), a=component.output()),
                      Weighted().use(c=Dataset.offset, a=component.output())])
    def triple(x: float) -> float:
        return 3 * x

    assert [spec.positional for _, spec in triple.specs] == [True, False]
    result = run_local(lambda x: triple(x), tmp_path, [{"x": 2.0, "offset": 0.5}])
    assert result.table.column("triple.Difference").to_pylist() == [4.0]
    assert result.table.column("triple.Weighted").to_pylist() == [6.5]


def test_objects_older_than_a_run_are_left_out_of_collections_only_while_it_runs(tmp_path):
    import gc

    gc.unfreeze()  # (tests before this one may have planned in this process, which freezes the plan)
    frozen_during_run: list[int] = []
    run_local(h.identity, tmp_path, [{"x": i} for i in range(20)], name="plain", batch_size=5,
              progress=lambda _: frozen_during_run.append(gc.get_freeze_count()))
    assert min(frozen_during_run) > 0 and gc.get_freeze_count() == 0

    gc.freeze()  # the caller's own freeze is theirs: not undone by the run
    try:
        run_local(h.identity, tmp_path, [{"x": i} for i in range(20)], name="frozen", batch_size=5)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are a Linux setting")
def test_parts_and_reconciliation_fault_in_ordinary_pages_and_put_the_setting_back(tmp_path, monkeypatch):
    import pyarrow.parquet

    from hypermetric.runtime.parts import arrow_memory, reconcile

    def huge_pages_off() -> int | None:
        return arrow_memory._prctl(arrow_memory._PR_GET_THP_DISABLE)

    seen: dict[str, list[int | None]] = {"part": [], "reconcile": [], "function": []}
    write_table, reconcile_parts = pyarrow.parquet.write_table, reconcile._reconcile
    monkeypatch.setattr(pyarrow.parquet, "write_table",
                        lambda *args, **kwargs: (seen["part"].append(huge_pages_off()),
                                                 write_table(*args, **kwargs))[1])
    monkeypatch.setattr(reconcile, "_reconcile",
                        lambda output_dir: (seen["reconcile"].append(huge_pages_off()),
                                            reconcile_parts(output_dir))[1])

    def function(x: int) -> int:
        seen["function"].append(huge_pages_off())
        return x

    assert huge_pages_off() == 0
    result = run_local(function, tmp_path, [{"x": i} for i in range(10)], flush_rows=4, batch_size=2)
    assert result.rows == 10 and huge_pages_off() == 0
    assert set(seen["part"]) == set(seen["reconcile"]) == {1} and len(seen["part"]) >= 3
    assert set(seen["function"]) == {0}  # the user's code keeps the process's setting
