"""Configurable reductions of a run's metrics: the named ones against NumPy and the standard library, the
bootstrap interval against a plain loop, per-metric keys, and the summary of real runs (in-process, Ray)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from runtime_helpers import same_metrics

from hypermetric.runtime import Dataset, Metric, component, runtime
from hypermetric.runtime.result import reductions as red
from hypermetric.runtime.result.reductions import Reduction, Reductions, bootstrap_ci, reduction

VALUES = np.array([0.25, 1.0, 0.0, 0.5, 0.75, 0.125, 1.0, 0.0, 0.375])


@pytest.mark.parametrize("name, expected", [
    ("mean", statistics.fmean(VALUES)),
    ("median", statistics.median(VALUES)),
    ("std", statistics.stdev(VALUES)),
    ("min", 0.0),
    ("max", 1.0),
    ("p50", statistics.median(VALUES)),
    ("p90", float(np.percentile(VALUES, 90))),
    ("p0", 0.0),
    ("p100", 1.0),
    ("p99.5", float(np.percentile(VALUES, 99.5))),
])
def test_named_reductions_agree_with_the_standard_library_and_numpy(name, expected):
    assert reduction(name).apply(VALUES) == {name: pytest.approx(expected)}


def test_quartiles_are_the_standard_librarys_inclusive_quantiles():
    q1, _, q3 = statistics.quantiles(VALUES, n=4, method="inclusive")
    assert reduction("p25").apply(VALUES)["p25"] == pytest.approx(q1)
    assert reduction("p75").apply(VALUES)["p75"] == pytest.approx(q3)


def _loop_bootstrap(values, level, resamples, seed):
    """The textbook percentile bootstrap, one resample at a time, from the same random stream."""
    rng = np.random.default_rng(seed)
    means = [values[rng.integers(0, len(values), size=len(values))].mean() for _ in range(resamples)]
    return np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])


def test_bootstrap_interval_matches_a_plain_loop_whatever_the_chunk_size(monkeypatch):
    values = np.random.default_rng(7).normal(0.6, 0.2, size=301)
    low, high = _loop_bootstrap(values, 0.9, 500, seed=3)
    for chunk in (red.BOOTSTRAP_CHUNK_ELEMENTS, 301 * 7, 1):  # several resamples at once, or one at a time
        monkeypatch.setattr(red, "BOOTSTRAP_CHUNK_ELEMENTS", chunk)
        interval = bootstrap_ci(level=0.9, resamples=500, seed=3).apply(values)
        assert interval == {"ci90.low": pytest.approx(low), "ci90.high": pytest.approx(high)}


def test_bootstrap_interval_of_a_large_sample_is_close_to_the_normal_interval():
    values = np.random.default_rng(11).normal(0.5, 0.2, size=4000)
    interval = reduction("ci").apply(values)
    half = 1.959964 * values.std(ddof=1) / math.sqrt(len(values))
    assert interval["ci95.low"] == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert interval["ci95.high"] == pytest.approx(values.mean() + half, abs=0.1 * half)
    assert reduction("ci95").apply(values) == interval
    assert reduction("ci80").apply(values)["ci80.low"] > interval["ci95.low"]
    assert bootstrap_ci(statistic="median").apply(np.array([2.0] * 5)) == {"ci95.low": 2.0, "ci95.high": 2.0}


def test_no_values_give_none_for_every_label_and_one_value_a_nan_std():
    empty = np.empty(0)
    assert reduction("median").apply(empty) == {"median": None}
    assert reduction("ci").apply(empty) == {"ci95.low": None, "ci95.high": None}
    assert math.isnan(reduction("std").apply(np.array([1.0]))["std"])


def test_user_functions_are_named_after_themselves_and_may_return_several_numbers():
    def spread(values):
        return {"iqr": np.percentile(values, 75) - np.percentile(values, 25), "range": np.ptp(values)}

    assert reduction(spread).apply(VALUES) == {"spread.iqr": pytest.approx(0.625), "spread.range": 1.0}
    assert Reduction("share_perfect", lambda v: (v == 1).mean()).apply(VALUES) == {
        "share_perfect": pytest.approx(2 / 9)}
    with pytest.raises(TypeError, match="returned str, expected a number"):
        reduction(Reduction("bad", lambda v: "high")).apply(VALUES)


@pytest.mark.parametrize("value, message", [
    ("average", "unknown reduction 'average'"),
    ("p101", "a percentile must be a number from 0 to 100"),
    ("ci100", "a confidence level must be between 0 and 1"),
    (lambda v: v.mean(), "name a lambda"),
    (3, "a reduction is a name, a Reduction or a function"),
])
def test_bad_reductions_are_refused_when_the_runtime_is_declared(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        runtime(parallel=False, reductions=[value])
    with pytest.raises(ValueError, match="repeat a name"):
        runtime(reductions={"TokenF1": ["p90", "p90"]})
    with pytest.raises(TypeError, match="keyed by metric name or column"):
        runtime(reductions={3: ["mean"]})


def test_the_most_specific_key_chooses_a_columns_reductions():
    chosen = Reductions.parse({"*": ["min"], "F1": ["max"], "qa.F1": ["median"], "qa.Len": "p90",
                               "Len.chars": ["std"]})
    names = {column: [r.name for r in chosen.for_column(column)]
             for column in ("qa.F1", "other.F1", "qa.EM", "qa.Len.chars", "qa.Len.words", "x.Len.chars")}
    assert names == {"qa.F1": ["median"], "other.F1": ["max"], "qa.EM": ["min"], "qa.Len.chars": ["p90"],
                     "qa.Len.words": ["p90"], "x.Len.chars": ["std"]}
    assert Reductions.parse({"F1": ["max"]}).for_column("qa.EM") == ()
    assert Reductions.parse(["median"]).for_column("qa.EM")[0].name == "median"  # a list: every metric
    assert chosen.unmatched(["qa.F1"]) == ["qa.Len", "Len.chars"]


class Closeness(Metric):
    def score(self, output: float, target: float) -> float:
        return 1.0 - abs(output - target)


class Pieces(Metric):
    def score(self, output: float) -> dict[str, float]:
        return {"whole": float(int(output * 10)), "tenths": output * 10 % 1}


class Never(Metric):
    def score(self, output: float) -> float:
        raise ValueError("never scores")


@component(evals=[Closeness().use(output=component.output(), target=Dataset.target),
                  Pieces().use(output=component.output()), Never().use(output=component.output())])
def guess(x: float) -> float:
    return x / 10


def _rows(n: int) -> list[dict[str, float]]:
    return [{"x": float(i % 10), "target": 0.5} for i in range(n)]


def _fails(values):
    raise ZeroDivisionError("a user's bug")


def test_a_run_summarises_each_metric_with_its_reductions(tmp_path, capsys):
    rows = _rows(40)
    result = runtime(dataset=Dataset.from_records(rows), parallel=False, output_dir=tmp_path / "out",
                     batch_size=7, reductions={"*": ["median", "p90"], "Closeness": ["median", "ci", _fails],
                                               "Nope": ["max"]})(guess)(x=Dataset.x)
    closeness = [1 - abs(r["x"] / 10 - 0.5) for r in rows]
    summary = result.metrics["guess.Closeness"]
    assert summary.mean == pytest.approx(statistics.fmean(closeness)) and summary.count == 40
    assert summary.reductions["median"] == pytest.approx(statistics.median(closeness))
    low, high = _loop_bootstrap(np.array(closeness), 0.95, 1000, seed=0)
    assert (summary.reductions["ci95.low"], summary.reductions["ci95.high"]) == (
        pytest.approx(low), pytest.approx(high))
    assert summary.reduction_errors == {"_fails": "ZeroDivisionError: a user's bug"}
    whole = result.metrics["guess.Pieces.whole"].reductions
    assert whole == {"median": pytest.approx(4.5), "p90": pytest.approx(float(np.percentile(
        [float(int(r["x"])) for r in rows], 90)))}
    never = result.metrics["guess.Never"]  # failed on every row: no values, no column
    assert (never.count, never.errors, never.reductions) == (0, 40, {"median": None, "p90": None})
    assert result.notes == ("reductions for 'Nope' match no metric column",)
    out = capsys.readouterr().out
    assert "median" in out and "ci95.low" in out and "ci95.high" in out
    assert "reduction _fails of guess.Closeness failed: ZeroDivisionError: a user's bug" in out
    assert "note: reductions for 'Nope' match no metric column" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("guess.Closeness"))
    assert f"{statistics.median(closeness):.4f}" in line.split()


def test_without_reductions_the_summary_is_the_mean_and_reduce_adds_them_afterwards(tmp_path):
    result = runtime(dataset=Dataset.from_records(_rows(12)), parallel=False, output_dir=tmp_path / "o",
                     quiet=True)(guess)(x=Dataset.x)
    assert all(summary.reductions == {} for summary in result.metrics.values()) and result.notes == ()
    later = result.reduce({"guess.Closeness": ["max", "min"]})
    assert later["guess.Closeness"].reductions == {"max": 1.0, "min": pytest.approx(0.5)}
    assert later["guess.Closeness"].mean == result.metrics["guess.Closeness"].mean
    assert later["guess.Pieces.whole"].reductions == {}


@pytest.mark.ray
def test_library_metrics_and_reductions_on_ray_match_the_in_process_run(ray_session, tmp_path):
    from hypermetric.metrics import NDCG, TokenF1

    @component(evals=[TokenF1().use(output=component.output(), ground_truth=Dataset.answer),
                      NDCG(2).use(output=component.input("ranking"), ground_truth=Dataset.qrel)])
    def reply(query: str, ranking: list[str]) -> str:
        return query.replace("?", "")

    def main(query: str, ranking: list[str]) -> str:
        return reply(query, ranking)

    rows = [{"query": f"cat {i}?", "answer": f"cat {i % 3}", "ranking": ["a", "b", "c"][i % 3:],
             "qrel": {"b": 1, "c": 2}} for i in range(30)]
    options = {"dataset": Dataset.from_records(rows), "quiet": True, "workers": 2, "batch_size": 4,
               "reductions": ["median", "ci"]}
    on_ray = runtime(output_dir=tmp_path / "ray", **options)(main)(
        query=Dataset.query, ranking=Dataset.ranking)
    local = runtime(output_dir=tmp_path / "local", parallel=False, **options)(main)(
        query=Dataset.query, ranking=Dataset.ranking)
    assert on_ray.table.equals(local.table) and same_metrics(on_ray.metrics, local.metrics)
    f1 = on_ray.table.column("reply.TokenF1").to_pylist()
    assert f1 == [TokenF1().score(output=r["query"].replace("?", ""), ground_truth=r["answer"]) for r in rows]
    assert on_ray.metrics["reply.NDCG@2"].reductions["median"] == pytest.approx(statistics.median(
        NDCG(2).score(output=r["ranking"], ground_truth=r["qrel"]) for r in rows))
