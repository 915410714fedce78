"""The fast paths of the resampling statistics against plain reference computations on the same draws:
half-byte sign-flip tables, complex-paired gathers, the percentile interval, and groups run on threads."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hypermetric.results.stats import threads
from hypermetric.results.stats.bootstrap import Resampling, quantile, resampled_draws, resampled_means
from hypermetric.results.stats.pvalues import _sign_flip_hits
from hypermetric.results.stats.significance import significance


@pytest.mark.parametrize("n", [1, 7, 8, 9, 1000, 1003])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_sign_flip_hits_equal_flipping_each_difference(n, k):
    rng = np.random.default_rng(n * 10 + k)
    diffs = rng.normal(0.05, 1, size=(n, k))
    observed = diffs.mean(axis=0)
    slack = 1e-9 * np.abs(diffs).mean(axis=0)
    got = _sign_flip_hits(diffs, observed, slack, 300, np.random.default_rng(5))
    # The same random bytes, one bit per example (the highest bit of a byte is its block's first example).
    blocks = (n + 7) // 8
    draws = np.random.default_rng(5)
    hits = np.zeros(k, np.int64)
    for rows in _chunks(300, blocks):
        bits = np.unpackbits(draws.integers(0, 256, size=(rows, blocks), dtype=np.uint8), axis=1)[:, :n]
        means = ((1 - 2 * bits.astype(np.float64)) @ diffs) / n
        hits += (np.abs(means) >= np.abs(observed) - slack).sum(axis=0)
    assert got.tolist() == hits.tolist()


def _chunks(resamples: int, blocks: int) -> list[int]:
    step = max(1, (1 << 18) // blocks)
    return [min(step, resamples - start) for start in range(0, resamples, step)]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_resampled_means_equal_plain_gathers(k):
    matrix = np.random.default_rng(k).normal(size=(500, k))
    resampling = Resampling(resamples=200)
    got = resampled_means(matrix, resampling, np.random.default_rng(9))
    draws = np.concatenate(list(resampled_draws(500, 200, np.random.default_rng(9))))
    want = matrix[draws].mean(axis=1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_quantile_is_numpys_to_the_last_bit():
    rng = np.random.default_rng(0)
    for trial in range(500):
        n = int(rng.integers(1, 80))
        values = rng.normal(size=(n, 3))
        if trial % 3 == 0:
            values = np.round(values, 1)  # ties
        if trial % 5 == 0:
            values[int(rng.integers(0, n)), 1] = np.nan
        for q in (0.0, 0.025, 0.05, 0.5, 0.95, 0.975, 1.0, float(rng.random())):
            assert np.array_equal(quantile(values, q), np.quantile(values, q, axis=0), equal_nan=True), (n, q)


def test_groups_on_threads_give_the_sequential_answer(monkeypatch):
    rng = np.random.default_rng(3)
    rows = []
    for dataset in ("d1", "d2", "d3"):
        for model, shift in (("a", 0.0), ("b", 0.05), ("c", 0.0)):
            for q in range(300):
                rows.append({"Dataset": dataset, "Model": model, "status": "COMPLETE", "id": f"q{q}",
                             "ndcg": float(rng.random() + shift), "map": float(rng.random())})
    table = pa.Table.from_pylist(rows)
    answers = []
    for cpus in (1, 2, 3):
        monkeypatch.setattr(threads, "cpus", lambda cpus=cpus: cpus)
        answers.append(significance(table, ["Dataset", "Model"], "Model", "a",
                                    resampling=Resampling(resamples=300)).to_pylist())
    assert answers[0] == answers[1] == answers[2]
    assert [(r["Dataset"], r["metric"], r["Model"]) for r in answers[0]][:4] == [
        ("d1", "ndcg", "b"), ("d1", "map", "b"), ("d1", "ndcg", "c"), ("d1", "map", "c")]


def test_an_error_in_one_group_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(threads, "cpus", lambda: 2)

    def work(item: int) -> int:
        if item == 3:
            raise ValueError("group 3 failed")
        return item * 2

    assert threads.map_in_threads(work, range(3)) == [0, 2, 4]
    with pytest.raises(ValueError, match="group 3 failed"):
        threads.map_in_threads(work, range(6))
