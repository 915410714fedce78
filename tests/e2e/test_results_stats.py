"""End-to-end: `results` statistics (--agg, --ci, --significance, --compare, --chart) through the real CLI
on a pipeline that writes trec_eval `-q` files; the tables written with --to are checked on disk."""

from __future__ import annotations

import csv

import pytest

# Per query q (1..40): a value that varies with q; `dense` adds 0.2 on every query (better on each one),
# `same` equals `bm25` exactly. Dataset d2 halves the gain.
PIPELINE = """
data = {Dataset: d1 d2}
model = {Model: bm25 dense same}
seed = {Seed: 1 2}
task evaluate(data=$, model=$, seed=$) -> (out="eval.txt"):
  awk -v m="$model" -v d="$data" -v s="$seed" 'BEGIN {
    off = (m == "dense") ? 0.2 : 0; if (d == "d2") off = off / 2
    if (m == "dense" && s == 2 && d == "d2") exit 3
    for (q = 1; q <= 40; q++) { v = (q * 37 % 17) / 20 + off; printf "ndcg\\t%d\\t%.4f\\n", q, v; t += v }
    printf "ndcg\\tall\\t%.4f\\n", t / 40 }' > $out
"""
TARGET = "evaluate[Dataset: *, Model: *, Seed: 1]"


@pytest.fixture
def evaluated(project):
    project.write("main.hm", PIPELINE)
    project.sh("run", "main.hm", "evaluate[Dataset: *, Model: *, Seed: *]", "-s", "-k")
    return project


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_significance_against_the_default_key(evaluated):
    evaluated.sh("results", "main.hm", TARGET, "--per-query", "--significance", "Model", "--to", "sig.csv").ok()
    rows = {(r["Dataset"], r["Model"]): r for r in read_csv(evaluated.path("sig.csv"))}
    assert set(rows) == {("d1", "dense"), ("d1", "same"), ("d2", "dense"), ("d2", "same")}
    dense, same = rows["d1", "dense"], rows["d1", "same"]
    assert dense["baseline"] == "bm25" and dense["n"] == "40" and dense["test"] == "paired randomization test"
    assert float(dense["p_holm"]) < 0.01 and dense["significant"] == "true"
    assert float(dense["delta"]) == pytest.approx(0.2)
    assert float(same["p"]) == pytest.approx(1.0) and same["significant"] == "false"
    assert float(same["ci_low"]) <= 0 <= float(same["ci_high"])


def test_significance_table_marks_and_names_the_test(evaluated):
    out = evaluated.sh("results", "main.hm", TARGET, "--per-query", "--significance", "Model", "--baseline",
                       "same", "--test", "bootstrap", "--format", "table", env={"COLUMNS": "160"}).ok()
    assert "paired bootstrap test" in out.err and "against same" in out.err
    dense_lines = [line for line in out.out.splitlines() if "dense" in line]
    assert len(dense_lines) == 2 and all("*" in line for line in dense_lines)


def test_confidence_intervals_are_reproducible(evaluated):
    args = ("results", "main.hm", TARGET, "--per-query", "--ci", "--resamples", "500", "--seed", "7",
            "--format", "csv")
    first, second = evaluated.sh(*args).ok(), evaluated.sh(*args).ok()
    assert first.out == second.out
    rows = list(csv.DictReader(first.out.splitlines()))
    assert len(rows) == 6 and all(float(r["ci_low"]) <= float(r["mean"]) <= float(r["ci_high"]) for r in rows)


def test_aggregate_over_seeds_counts_the_failed_case(evaluated):
    evaluated.sh("results", "main.hm", "evaluate[Dataset: *, Model: *, Seed: *]", "--agg", "Seed", "--stats",
                 "mean,n,std", "--to", "agg.csv").ok()
    rows = {(r["Dataset"], r["Model"]): r for r in read_csv(evaluated.path("agg.csv"))}
    assert rows["d2", "dense"]["cases"] == "2" and rows["d2", "dense"]["missing"] == "1"
    assert rows["d2", "dense"]["n"] == "1" and rows["d2", "dense"]["std"] == ""
    assert rows["d1", "dense"]["n"] == "2" and float(rows["d1", "dense"]["std"]) == pytest.approx(0, abs=1e-9)


def test_compare_with_an_earlier_table(evaluated):
    evaluated.sh("results", "main.hm", "evaluate[Dataset: d1, Model: *, Seed: 1]", "--to", "before.parquet").ok()
    out = evaluated.sh("results", "main.hm", TARGET, "--compare", "before.parquet", "--to", "cmp.csv").ok()
    rows = read_csv(evaluated.path("cmp.csv"))
    assert {r["Model"] for r in rows} == {"bm25", "dense", "same"} and {r["Dataset"] for r in rows} == {"d1"}
    assert all(float(r["delta"]) == 0 for r in rows)
    assert "cases only in this table" in out.err and "Dataset=d2, Model=dense" in out.err


def test_chart_draws_each_key(evaluated):
    out = evaluated.sh("results", "main.hm", TARGET, "--per-query", "--ci", "--chart", "Model").ok()
    assert "ndcg" in out.out
    axis_line = next(line for line in out.out.splitlines() if "bm25" in line)
    assert "dense" in axis_line and "same" in axis_line


@pytest.mark.parametrize("args, message", [
    (("--significance", "Modle"), "Model"),
    (("--significance", "Seed"), "only one key"),
    (("--agg", "Size"), "Size"),
    (("--significance", "Model", "--baseline", "bm26"), "bm25"),
    (("--ci",), "--per-query"),
    (("--agg", "Seed", "--significance", "Model"), "choose one"),
])
def test_bad_statistics_requests_exit_2(evaluated, args, message):
    out = evaluated.sh("results", "main.hm", TARGET, *args).user_error()
    assert "error:" in out.err and message in out.err


def test_compare_with_a_file_of_other_columns_exits_2(evaluated):
    evaluated.write("other.csv", "x,y\n1,2\n")
    out = evaluated.sh("results", "main.hm", TARGET, "--compare", "other.csv").user_error()
    assert "other columns" in out.err
