"""The runtime on Ray: the same tables as in-process, retries, lost workers and evaluators, backpressure."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
import runtime_helpers as h
import runtime_seeds as seeds

from hypermetric.runtime import Dataset, runtime

pytestmark = pytest.mark.ray


def test_seed_runtime_example_gives_the_same_table_on_ray_and_in_process(ray_session, workdir, monkeypatch):
    path = workdir / "queries.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in seeds.ROWS))
    monkeypatch.setenv("HYPERMETRIC_DATASET", str(path))
    on_ray = seeds.main(query=Dataset.query)
    in_process = seeds.main.with_options(parallel=False)(query=Dataset.query)
    assert on_ray.table.equals(in_process.table)
    assert on_ray.table.column("input.query").to_pylist() == [row["query"] for row in seeds.ROWS]
    assert on_ray.table.column("output").null_count == len(seeds.ROWS)
    assert on_ray.output_dir.parent == workdir / "evals"
    again = seeds.main.with_options(output_dir=on_ray.output_dir)(query=Dataset.query)
    assert (again.ran, again.skipped) == (0, len(seeds.ROWS)) and again.table.equals(on_ray.table)


def test_seed_component_example_gives_the_same_table_on_ray_and_in_process(ray_session, workdir):
    on_ray = seeds.pipeline(query=seeds.dataset.query)
    in_process = seeds.pipeline.with_options(parallel=False)(query=seeds.dataset.query)
    assert on_ray.table.equals(in_process.table)
    table = on_ray.table
    expected = [float(" ".join(r["query"].split()).lower() == r["ground_truth"]) for r in seeds.ROWS]
    assert table.column("preprocess.metric_1").to_pylist() == expected
    assert table.column("preprocess.metric_2.words").to_pylist() == [
        float(len(r["query"].split())) for r in seeds.ROWS]
    assert table.column("preprocess.metric_2.kept").type == "double"
    assert on_ray.metrics["preprocess.metric_1"].mean == pytest.approx(sum(expected) / len(expected))


@pytest.mark.parametrize("evaluators", [2, 0])  # 0: the workers score their own batches
def test_two_components_and_four_metrics_with_several_evaluators_match_in_process(ray_session, tmp_path,
                                                                                  evaluators):
    options = {"dataset": Dataset.from_records(h.records(40)), "batch_size": 3, "workers": 2,
               "evaluators": evaluators, "flush_rows": 7, "quiet": True}
    on_ray = runtime(output_dir=tmp_path / "ray", **options)(h.pipeline)(query=Dataset.query)
    local = runtime(output_dir=tmp_path / "local", parallel=False, **options)(h.pipeline)
    in_process = local(query=Dataset.query)
    assert on_ray.table.equals(in_process.table)
    assert on_ray.table.column("row_id").to_pylist() == list(range(40))
    assert h.same_metrics(on_ray.metrics, in_process.metrics)


def test_retries_on_ray_record_the_attempt_that_succeeded(ray_session, tmp_path):
    dataset = Dataset.from_records([{"query": q, "x": i} for i, q in enumerate("abcdef")])
    flaky = runtime(dataset=dataset, workers=2, batch_size=2, delay_seconds=0.01, quiet=True,
                    exception_to_retry=ConnectionError, output_dir=tmp_path / "flaky")(h.flaky)
    table = flaky(query=Dataset.query, marker_dir=str(tmp_path)).table
    assert table.column("attempts").to_pylist() == [2] * 6
    assert table.column("output").to_pylist() == list("ABCDEF") and table.column("error").null_count == 6
    picky = runtime(dataset=dataset, workers=2, batch_size=2, delay_seconds=0, quiet=True,
                    exception_to_retry=ValueError, output_dir=tmp_path / "picky")(h.picky)
    table = picky(x=Dataset.x, marker_dir=str(tmp_path)).table
    assert table.column("attempts").to_pylist() == [2, 1] * 3
    assert table.column("error").to_pylist()[:2] == [None, "KeyError: odd 1"]


def test_a_worker_that_dies_loses_no_row_and_duplicates_none(ray_session, tmp_path):
    dataset = Dataset.from_records([{"x": i} for i in range(60)])
    run = runtime(dataset=dataset, workers=2, batch_size=5, quiet=True, output_dir=tmp_path / "out")(
        h.crash_worker_once)
    result = run(x=Dataset.x, marker_dir=str(tmp_path), at=23)
    assert (tmp_path / "worker-crashed").exists() and result.lost_workers == 1
    table = result.table
    assert table.column("row_id").to_pylist() == list(range(60))
    assert table.column("output").to_pylist() == [2 * i for i in range(60)]
    assert table.column("error").null_count == 60


# evaluators=1: the evaluator is an actor of its own; its replacement is sent what it had not written.
# evaluators=0: each worker holds its evaluator, and the process that dies is both; what it buffered runs again.
@pytest.mark.parametrize("evaluators", [1, 0])
def test_an_evaluator_that_dies_keeps_what_it_flushed_and_the_rest_is_done_again(ray_session, tmp_path,
                                                                                  evaluators):
    doubled = h.make_doubled(str(tmp_path), at=2 * 37)

    def main(x: int) -> int:
        return doubled(x)

    run = runtime(dataset=Dataset.from_records([{"x": i} for i in range(60)]), workers=2,
                  evaluators=evaluators, batch_size=5, flush_rows=10, quiet=True,
                  output_dir=tmp_path / "out")(main)
    result = run(x=Dataset.x)
    assert (tmp_path / "evaluator-crashed").exists()
    assert (result.lost_evaluators, result.lost_workers) == (1, 1 - evaluators)
    parts = sorted((result.output_dir / "parts").glob("part-*.parquet"))
    generations = {re.search(r"-e00\d(g\d+)-", p.name).group(1) for p in parts}
    if evaluators:
        assert generations == {"g000", "g001"}  # parts flushed before the crash are still there
    else:  # the replacement writes a part only if a batch comes its way (the crashed one may go elsewhere)
        assert generations <= {"g000", "g001"}
    recorded = [i for p in parts for i in pq.read_table(p, columns=["row_id"]).column("row_id").to_pylist()]
    assert sorted(recorded) == list(range(60))  # nothing flushed was lost, and nothing was written twice
    table = result.table
    assert table.column("row_id").to_pylist() == list(range(60))
    assert table.column("doubled.CrashOnce").to_pylist() == [float(i) for i in range(60)]


def test_in_flight_rows_never_exceed_the_bound(ray_session, tmp_path):
    produced = [0]

    def rows():
        for i in range(1500):
            produced[0] += 1
            yield {"x": i}

    seen: list[tuple[int, int]] = []

    def progress(snapshot) -> None:
        seen.append((produced[0] - snapshot.acknowledged_rows, snapshot.in_flight_rows))

    run = runtime(dataset=Dataset.from_generator(rows), workers=2, batch_size=20, max_in_flight=60,
                  quiet=True, progress=progress, output_dir=tmp_path / "out")(h.identity)
    result = run(x=Dataset.x)
    assert result.rows == 1500
    assert result.table.column("identity.Slow").to_pylist() == [float(i) for i in range(1500)]
    read_ahead = max(gap for gap, _ in seen)
    assert max(in_flight for _, in_flight in seen) <= 60 and result.peak_in_flight_rows <= 60
    assert 40 <= read_ahead <= 60 + 20  # the bound was reached, and at most one batch was read beyond it


def test_a_function_the_workers_cannot_load_fails_the_run_at_once(ray_session, tmp_path):
    run = runtime(dataset=Dataset.from_records([{"x": i} for i in range(4)]), workers=1, quiet=True,
                  output_dir=tmp_path / "out")(h.DriverOnly())
    with pytest.raises(RuntimeError, match="(?s)could not run the function.*only exists on the driver"):
        run(x=Dataset.x)


@pytest.mark.timeout(120)
def test_more_workers_than_cores_run_at_once(ray_session, tmp_path):
    # Four workers on the two-CPU test cluster: a worker holds no CPU by default, so none waits to be placed.
    run = runtime(dataset=Dataset.from_records([{"x": i} for i in range(8)]), workers=4, batch_size=2,
                  quiet=True, max_retries=0, output_dir=tmp_path / "out")(h.rendezvous)
    table = run(x=Dataset.x, directory=str(tmp_path / "present"), parties=4).table
    assert table.column("error").to_pylist() == [None] * 8
    assert len(list((tmp_path / "present").iterdir())) == 4


@pytest.mark.timeout(120)
def test_workers_holding_cpus_are_no_more_than_the_cluster_holds(ray_session, tmp_path):
    run = runtime(dataset=Dataset.from_records([{"x": i} for i in range(8)]), workers=4, batch_size=2,
                  num_cpus=1, quiet=True, output_dir=tmp_path / "out")(h.identity)
    assert run(x=Dataset.x).table.column("output").to_pylist() == list(range(8))  # two workers, no hang
    with pytest.raises(ValueError, match="has 2 CPUs, not enough for one worker"):
        run.with_options(num_cpus=3, output_dir=tmp_path / "other")(x=Dataset.x)
