"""The runtime's plain-Python surface: datasets, field references, decorators, options, job parameters."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
import runtime_helpers as h

from hypermetric.runtime import (
    Component,
    Dataset,
    FieldRef,
    Metric,
    NotInJobError,
    Runtime,
    component,
    job_params,
    runtime,
)

ROWS = [{"query": "a", "n": 1}, {"query": "b", "n": 2}, {"query": "c", "n": 3}]


def _datasets(tmp_path):
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("".join(json.dumps(row) + "\n\n" for row in ROWS))
    table = pa.Table.from_pylist(ROWS)
    pq.write_table(table, tmp_path / "rows.parquet")
    pyarrow.csv.write_csv(table, tmp_path / "rows.csv")
    return {
        "records": Dataset.from_records(ROWS),
        "generator": Dataset.from_generator(lambda: iter(ROWS)),
        "jsonl": Dataset.from_jsonl(jsonl),
        "csv": Dataset.from_csv(tmp_path / "rows.csv"),
        "parquet": Dataset.from_parquet(tmp_path / "rows.parquet"),
        "arrow": Dataset.from_arrow(table),
        "path": Dataset.from_path(tmp_path / "rows.parquet"),
    }


@pytest.mark.parametrize("kind", ["records", "generator", "jsonl", "csv", "parquet", "arrow", "path"])
def test_every_source_reads_the_same_rows_in_batches(tmp_path, kind):
    dataset = _datasets(tmp_path)[kind]
    assert list(dataset.iter_rows()) == ROWS
    chunks = list(dataset.iter_chunks(2))
    assert [count for count, _ in chunks] == [2, 1]
    assert chunks[1][1] == {"query": ["c"], "n": [3]}


def test_sizes_are_known_only_where_they_are_cheap(tmp_path):
    sizes = {kind: dataset.size() for kind, dataset in _datasets(tmp_path).items()}
    assert sizes == {"records": 3, "generator": None, "jsonl": None, "csv": None, "parquet": 3, "arrow": 3,
                     "path": 3}
    assert len(Dataset.from_records(ROWS)) == 3 and bool(Dataset.from_records([]))


def test_records_missing_a_field_read_as_none():
    dataset = Dataset.from_records([{"a": 1}, {"b": 2}])
    assert list(dataset.iter_rows()) == [{"a": 1, "b": None}, {"a": None, "b": 2}]


def test_jsonl_lines_must_be_objects(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: expected a JSON object, found list"):
        list(Dataset.from_jsonl(path).iter_rows())


def test_from_path_rejects_unknown_suffixes(tmp_path):
    with pytest.raises(ValueError, match="cannot tell how to read"):
        Dataset.from_path(tmp_path / "rows.txt")


def test_dataset_from_environment(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n")
    assert list(Dataset.from_environment({"HYPERMETRIC_DATASET": str(path)}).iter_rows()) == [ROWS[0]]
    assert Dataset.from_environment({}) is None


def test_field_references_on_the_class_and_on_instances():
    dataset = Dataset.from_records(ROWS)
    assert Dataset.query == FieldRef("query") and Dataset.query.dataset is None
    assert dataset.query == FieldRef("query") and dataset.query.dataset is dataset
    assert Dataset.field("size") == FieldRef("size") and callable(dataset.size)
    with pytest.raises(AttributeError):
        _ = Dataset._private
    unpickled = pickle.loads(pickle.dumps(dataset.query))
    assert unpickled == FieldRef("query") and unpickled.dataset is None  # the rows stay behind


def test_a_runtime_called_with_plain_values_is_the_function():
    double = runtime(workers=2)(lambda x: 2 * x)
    assert isinstance(double, Runtime) and double(4) == 8 and double(x=5) == 10


def test_runtime_works_with_and_without_parentheses():
    def f(x):
        return x

    assert isinstance(runtime(f), Runtime) and runtime(f).options.workers == 4
    assert runtime(workers=3)(f).options.workers == 3 and runtime(f).__name__ == "f"
    assert runtime(f).with_options(parallel=False).options.parallel is False


@pytest.mark.parametrize(("options", "message"), [
    ({"workers": 0}, "workers must be an integer >= 1"),
    ({"max_runs": 0}, "max_runs must be a positive integer or math.inf"),
    ({"max_runs": 2.5}, "max_runs must be"),
    ({"max_retries": -1}, "max_retries must be an integer >= 0"),
    ({"delay_seconds": -1}, "delay_seconds must be a number >= 0"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"evaluators": -1}, "evaluators must be an integer >= 0"),
    ({"exception_to_retry": "ValueError"}, "exception_to_retry must be an exception class"),
    ({"exception_to_retry": ()}, "exception_to_retry must be an exception class"),
    ({"dataset": [{"a": 1}]}, "dataset must be a hypermetric Dataset"),
    ({"num_cpus": -1}, "num_cpus must be a number >= 0"),
    ({"num_cpus": "2"}, "num_cpus must be a number >= 0"),
])
def test_bad_options_are_rejected_at_decoration(options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        runtime(**options)


def test_good_options_are_accepted():
    options = runtime(workers=10, max_runs=math.inf, max_retries=3, delay_seconds=5,
                      exception_to_retry=(ValueError, KeyError))(lambda q: q).options
    assert options.retry_on() == (ValueError, KeyError) and runtime(max_runs=5)(print).options.max_runs == 5


def test_a_component_outside_a_runtime_is_the_plain_function():
    assert isinstance(h.answer, Component) and h.answer("abc") == "ABC" and h.answer.__name__ == "answer"
    assert [column for column, _ in h.answer.specs] == ["answer.ExactMatch", "answer.Length", "answer.Fussy"]


def test_a_component_can_decorate_a_method():
    class Model:
        factor = 3

        @component(evals=[h.Parity().use(value=component.output())])
        def predict(self, x: int) -> int:
            return self.factor * x

    assert Model().predict(2) == 6


def test_repeated_metrics_get_numbered_columns_and_names_can_be_given():
    @component(evals=[h.Parity().use(value=component.output()), h.Parity().use(value=component.input("x")),
                      h.Parity().use(value=component.input("x"), name="InputParity")])
    def f(x: int) -> int:
        return x

    assert [column for column, _ in f.specs] == ["f.Parity", "f.Parity_2", "f.InputParity"]


def test_metric_bindings_are_checked_against_score():
    with pytest.raises(TypeError, match="ExactMatch.use.*does not fit"):
        h.ExactMatch().use(output=component.output())
    with pytest.raises(TypeError, match="does not fit"):
        h.ExactMatch().use(output=component.output(), expected=Dataset.answer, extra=1)


def test_component_inputs_must_name_parameters():
    with pytest.raises(ValueError, match="component 'f' has no parameter 'y'"):
        component(evals=[h.Parity().use(value=component.input("y"))], name="f")(lambda x: x)
    with pytest.raises(TypeError, match=r"must be metric.use\(...\) specs"):
        component(evals=[h.Parity()])(lambda x: x)


def test_metric_names_must_not_clash_with_columns():
    with pytest.raises(ValueError, match="reserved"):
        h.Parity().use(value=component.output(), name="output")


def test_a_metric_without_score_says_so():
    with pytest.raises(TypeError, match="must define score"):
        Metric().score()


def test_job_params_reads_the_job_environment(tmp_path):
    env = {
        "HYPERMAKE_JOB_ID": "17",
        "HYPERMAKE_JOB_NAME": "evaluate",
        "HYPERMAKE_JOB_CASE_JSON": '{"Dataset":"nq","Model":"bm25"}',
        "HYPERMAKE_JOB_WD": str(tmp_path),
        "HYPERMAKE_JOB_ENV_VARS": "data='/in/nq data' model='bm25' quote='it'\"'\"'s' empty=''",
    }
    params = job_params(env)
    assert (params.id, params.name, params.workdir) == ("17", "evaluate", tmp_path)
    assert dict(params.case) == {"Dataset": "nq", "Model": "bm25"}
    assert dict(params.variables) == {"data": "/in/nq data", "model": "bm25", "quote": "it's", "empty": ""}
    assert params["data"] == "/in/nq data" and params["Dataset"] == "nq" and params.get("missing", 0) == 0
    with pytest.raises(TypeError):
        params.case["Dataset"] = "x"  # read-only
    with pytest.raises(AttributeError):
        params.name = "other"  # frozen


def test_job_params_for_a_default_case_and_outside_a_job(monkeypatch):
    params = job_params({"HYPERMAKE_JOB_ID": "1", "HYPERMAKE_JOB_NAME": "t", "HYPERMAKE_JOB_CASE_JSON": "{}"})
    assert dict(params.case) == {} and dict(params.variables) == {}
    with pytest.raises(NotInJobError, match="not running inside a hypermetric job"):
        job_params({})
    with pytest.raises(ValueError, match="expected name=value"):
        job_params({"HYPERMAKE_JOB_ID": "1", "HYPERMAKE_JOB_ENV_VARS": "novalue"})
    monkeypatch.setenv("HYPERMAKE_JOB_ID", "9")
    monkeypatch.setenv("HYPERMAKE_JOB_NAME", "from-env")
    assert job_params().name == "from-env"


def test_importing_the_runtime_imports_neither_ray_nor_pyarrow():
    code = ("import sys, hypermetric.runtime as r\n"
            "r.runtime(workers=2)(print); r.Dataset.from_records([{'a': 1}]).a\n"
            "print(sorted(m for m in ('ray', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_itself_works_as_the_runtime_decorator():
    import hypermetric.runtime as package

    assert isinstance(package(workers=2)(print), Runtime)


def test_top_level_imports_from_the_design_work():
    code = textwrap.dedent("""
        from hypermetric import runtime, component, Dataset, Metric, job_params
        assert callable(runtime) and callable(job_params) and Dataset.query.name == "query"
    """)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_ray_joins_the_cluster_named_by_ray_address_else_starts_a_local_one(monkeypatch):
    import ray

    from hypermetric.runtime.drive import actors

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.7:6379")
    actors.ensure_ray()
    monkeypatch.delenv("RAY_ADDRESS")
    actors.ensure_ray()
    assert calls == [{"address": "auto"}, {"address": "local", "include_dashboard": False}]
