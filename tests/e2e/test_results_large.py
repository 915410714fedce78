"""End-to-end: `results --per-query` over trec_eval `-q` files large enough to be read column by column
(see `results/textcolumns.py`), through the real CLI; the tables written with --to are checked on disk."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest

# 4,000 queries of two metrics per case (~250 KB): `num_ret` is an integer, `map` a float; model `b` adds
# 0.1 to every query's `map`. The summary holds a text `runid`, as trec_eval's does.
PIPELINE = """
model = {Model: a b}
data = {Dataset: d1 d2}
task evaluate(model=$, data=$) -> (out="eval.txt"):
  awk -v m="$model" -v d="$data" 'BEGIN {
    off = (m == "b") ? 0.1 : 0; if (d == "d2") off = off / 2
    for (q = 1; q <= 4000; q++) {
      printf "num_ret               \\t%d\\t%d\\n", q, 900 + q % 100
      v = (q * 37 % 17) / 20 + off; t += v
      printf "map                   \\t%d\\t%.4f\\n", q, v }
    printf "runid                 \\tall\\t%s\\n", m
    printf "map                   \\tall\\t%.4f\\n", t / 4000 }' > $out
"""
TARGET = "evaluate[Model: *, Dataset: *]"


@pytest.fixture
def evaluated(project):
    project.write("main.hm", PIPELINE)
    project.sh("run", "main.hm", TARGET, "-s").ok()
    assert project.path("out", "evaluate", "Model=b", "eval.txt").stat().st_size > 2**17
    return project


def test_per_query_table_on_disk(evaluated):
    evaluated.sh("results", "main.hm", TARGET, "--per-query", "--to", "t.parquet").ok()
    table = pq.read_table(evaluated.path("t.parquet"))
    assert table.column_names == ["Dataset", "Model", "status", "id", "num_ret", "map", "runid"]
    assert [str(t) for t in table.schema.types] == ["string", "string", "string", "string", "int64", "double",
                                                   "string"]
    assert table.num_rows == 4 * 4001
    rows = {(r["Model"], r["Dataset"], r["id"]): r for r in table.to_pylist()}
    first = rows["a", "d1", "1"]
    assert first["num_ret"] == 901 and first["map"] == pytest.approx(37 % 17 / 20)
    summary = rows["a", "d1", "all"]
    assert (summary["num_ret"], summary["runid"]) == (None, "a")
    assert rows["b", "d1", "17"]["map"] == pytest.approx(17 * 37 % 17 / 20 + 0.1)
    ids = table.column("id").to_pylist()
    assert ids[:3] == ["1", "2", "3"] and ids[4000] == "all"  # queries in file order, then the summary


def test_significance_over_large_files(evaluated):
    evaluated.sh("results", "main.hm", TARGET, "--per-query", "--significance", "Model", "--columns", "map",
                 "--resamples", "200", "--to", "sig.csv").ok()
    with open(evaluated.path("sig.csv"), newline="") as fh:
        rows = {r["Dataset"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"d1", "d2"}
    assert rows["d1"]["n"] == "4000" and rows["d1"]["Model"] == "b" and rows["d1"]["metric"] == "map"
    assert float(rows["d1"]["delta"]) == pytest.approx(0.1)
    assert float(rows["d2"]["delta"]) == pytest.approx(0.05)
    assert rows["d1"]["significant"] == "true"
