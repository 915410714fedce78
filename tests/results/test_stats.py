"""The statistics against known answers: constructed per-query data, scipy as a reference, fixed seeds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hypermetric.errors import AxisError, UsageError
from hypermetric.results.stats.aggregate import aggregate
from hypermetric.results.stats.bootstrap import Resampling, bootstrap_mean_ci
from hypermetric.results.stats.compare import compare
from hypermetric.results.stats.pvalues import holm, paired_pvalues
from hypermetric.results.stats.significance import significance
from hypermetric.results.stats.summary import case_cis

AXES = ["Dataset", "Model"]


def per_query(scores: dict[tuple[str, str], list[float]], metric: str = "ndcg") -> pa.Table:
    """A `results --per-query` table: a row per query and case, then the case's `all` summary row."""
    rows = []
    for (dataset, model), values in scores.items():
        rows += [{"Dataset": dataset, "Model": model, "status": "COMPLETE", "id": f"q{i}", metric: v}
                 for i, v in enumerate(values)]
        rows.append({"Dataset": dataset, "Model": model, "status": "COMPLETE", "id": "all", metric: float(np.mean(values))})
    return pa.Table.from_pylist(rows)


def test_b_better_than_a_on_every_query_is_significant():
    rng = np.random.default_rng(3)
    a = rng.random(60)
    table = per_query({("d", "A"): list(a), ("d", "B"): list(a + 0.05 + rng.random(60) * 0.01)})
    for test in ("permutation", "bootstrap"):
        row = significance(table, AXES, "Model", "A", test=test).to_pylist()[0]
        assert row["Model"] == "B" and row["n"] == 60 and row["unpaired"] == 0
        assert row["p"] < 0.01 and row["significant"] is True
        assert 0 < row["ci_low"] <= row["delta"] <= row["ci_high"]


def test_identical_systems_give_p_one_and_a_difference_interval_around_zero():
    values = list(np.random.default_rng(4).random(80))
    table = per_query({("d", "A"): values, ("d", "B"): values})
    for test in ("permutation", "bootstrap"):
        row = significance(table, AXES, "Model", test=test).to_pylist()[0]
        assert row["p"] == pytest.approx(1.0) and row["significant"] is False
        assert row["ci_low"] <= 0 <= row["ci_high"]


def test_randomization_p_value_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    a = rng.random(300)
    b = a + rng.normal(0.02, 0.1, 300)
    ours = paired_pvalues((b - a)[:, None], "permutation", Resampling(resamples=20000, seed=1))[0]
    theirs = stats.permutation_test((b, a), lambda x, y: np.mean(x - y), permutation_type="samples",
                                    n_resamples=20000, random_state=1).pvalue
    assert abs(ours - theirs) < 0.02, (ours, theirs)


def test_bootstrap_interval_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(6).exponential(1.0, 2000)
    low, high = bootstrap_mean_ci(values, Resampling(resamples=5000, seed=2))
    ref = stats.bootstrap((values,), np.mean, n_resamples=5000, method="percentile", random_state=2)
    assert low == pytest.approx(ref.confidence_interval.low, abs=0.01)
    assert high == pytest.approx(ref.confidence_interval.high, abs=0.01)


def test_vectorised_resamples_match_a_plain_loop():
    """The bootstrap p-value equals the same resamples' p-value computed one resample at a time."""
    diffs = np.random.default_rng(7).normal(0.03, 0.2, 120)
    resampling = Resampling(resamples=400, seed=9)
    ours = paired_pvalues(diffs[:, None], "bootstrap", resampling)[0]
    rng = resampling.rng()
    draws = rng.integers(0, len(diffs), size=(400, len(diffs)), dtype=np.intp)
    observed = diffs.mean()
    hits = sum(abs(diffs[row].mean() - observed) >= abs(observed) - 1e-12 for row in draws)
    assert ours == pytest.approx((1 + hits) / 401)


def test_holm_against_a_worked_example():
    assert holm(np.array([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])
    assert holm(np.array([0.5, np.nan, 0.9])) == pytest.approx([1.0, np.nan, 1.0], nan_ok=True)


def test_fixed_seed_gives_identical_output_and_another_seed_differs():
    rng = np.random.default_rng(8)
    table = per_query({("d", m): list(rng.random(50)) for m in ("A", "B", "C")})
    first = significance(table, AXES, "Model", resampling=Resampling(seed=1))
    assert first.equals(significance(table, AXES, "Model", resampling=Resampling(seed=1)))
    assert not first.equals(significance(table, AXES, "Model", resampling=Resampling(seed=2)))
    assert case_cis(table, AXES).equals(case_cis(table, AXES))


def test_holm_family_is_the_keys_compared_per_metric():
    rng = np.random.default_rng(10)
    table = per_query({("d", m): list(rng.random(40)) for m in ("A", "B", "C")})
    rows = significance(table, AXES, "Model").to_pylist()
    assert [r["Model"] for r in rows] == ["B", "C"]
    assert [r["p_holm"] for r in rows] == pytest.approx(list(holm(np.array([r["p"] for r in rows]))))


def test_unpaired_examples_are_counted_not_dropped_silently():
    table = per_query({("d", "A"): [0.1, 0.2, 0.3, 0.4], ("d", "B"): [0.2, 0.3]})
    row = significance(table, AXES, "Model").to_pylist()[0]
    assert (row["n"], row["unpaired"]) == (2, 2)


def test_case_intervals_and_a_failed_case():
    table = per_query({("d", "A"): [0.2, 0.4, 0.6]})
    failed = pa.Table.from_pylist([{"Dataset": "e", "Model": "A", "status": "FAILED", "id": None, "ndcg": None}],
                                  schema=table.schema)
    rows = case_cis(pa.concat_tables([table, failed]), AXES).to_pylist()
    assert rows[0]["n"] == 3 and rows[0]["mean"] == pytest.approx(0.4)
    assert 0.2 <= rows[0]["ci_low"] <= 0.4 <= rows[0]["ci_high"] <= 0.6
    assert rows[1] == {"Dataset": "e", "Model": "A", "metric": "ndcg", "n": 0, "mean": None, "ci_low": None,
                       "ci_high": None}


def test_aggregate_counts_missing_cases():
    table = pa.Table.from_pylist([
        {"Model": "A", "Seed": "1", "status": "COMPLETE", "acc": 0.5},
        {"Model": "A", "Seed": "2", "status": "COMPLETE", "acc": 0.7},
        {"Model": "A", "Seed": "3", "status": "FAILED", "acc": None},
        {"Model": "B", "Seed": "1", "status": "COMPLETE", "acc": 0.9}])
    rows = aggregate(table, ["Model", "Seed"], ["Seed"], ["mean", "std", "n", "median", "min", "max"]).to_pylist()
    a, b = rows
    assert (a["cases"], a["missing"], a["n"]) == (3, 1, 2)
    assert a["mean"] == pytest.approx(0.6) and a["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert (a["median"], a["min"], a["max"]) == pytest.approx((0.6, 0.5, 0.7))
    assert b["n"] == 1 and b["std"] is None


def test_compare_joins_on_axes_and_lists_one_sided_cases():
    now = pa.Table.from_pylist([{"K": "a", "status": "COMPLETE", "m": 0.5}, {"K": "b", "status": "COMPLETE", "m": 0.7}])
    then = pa.Table.from_pylist([{"K": "a", "status": "COMPLETE", "m": 0.4}, {"K": "c", "status": "COMPLETE", "m": 0.1}])
    result = compare(now, then, ["K"])
    (row,) = result.table.to_pylist()
    assert row["K"] == "a" and row["delta"] == pytest.approx(0.1)
    assert result.only_current.to_pylist() == [{"K": "b"}]
    assert result.only_baseline.to_pylist() == [{"K": "c"}]


def test_bad_requests_are_user_errors():
    table = per_query({("d", "A"): [0.1, 0.2], ("d", "B"): [0.3, 0.4]})
    with pytest.raises(AxisError, match="Modle"):
        significance(table, AXES, "Modle")
    with pytest.raises(UsageError, match="only one key"):
        significance(table, AXES, "Dataset")
    with pytest.raises(AxisError, match="Seed"):
        aggregate(table, AXES, ["Seed"])
    with pytest.raises(UsageError, match="other columns"):
        compare(table, pa.table({"x": [1]}), AXES)
    with pytest.raises(UsageError, match="resamples"):
        Resampling(resamples=0)
