"""Rows to Arrow tables: typing, pivoting, writing and display text."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from hypermetric.errors import AxisError, UsageError
from hypermetric.results.arrow import (
    column_array,
    format_value,
    pivot,
    rows_to_table,
    table_to_text_rows,
    write_table,
)

ROWS = [
    {"D": "nq", "M": "bm25", "status": "COMPLETE", "ndcg": 0.5, "hits": 3},
    {"D": "nq", "M": "dense", "status": "COMPLETE", "ndcg": 0.75, "hits": 4},
    {"D": "msm", "M": "bm25", "status": "COMPLETE", "ndcg": 0.25, "hits": 1},
    {"D": "msm", "M": "dense", "status": "FAILED", "ndcg": None, "hits": None},
]


@pytest.mark.parametrize(
    ("values", "type_"),
    [
        ([1, 2, None], pa.int64()),
        ([1, 2.5, None], pa.float64()),
        ([float("nan"), 1], pa.float64()),
        ([True, None, False], pa.bool_()),
        (["a", None], pa.string()),
        ([1, "a"], pa.string()),
        ([True, 1], pa.string()),
        ([[1, 2], {"a": 1}], pa.string()),
        ([2**70, 1], pa.string()),
        ([None, None], pa.null()),
    ],
    ids=[
        "int",
        "mixed-number",
        "nan",
        "bool",
        "str",
        "number-and-str",
        "bool-and-int",
        "nested",
        "huge",
        "null",
    ],
)
def test_column_types(values: list, type_: pa.DataType) -> None:
    assert column_array(values).type == type_


def test_text_of_other_values() -> None:
    assert column_array([1, "a", 2.5, True]).to_pylist() == ["1", "a", "2.5", "true"]
    assert column_array([[1, 2], {"a": "é"}]).to_pylist() == ["[1, 2]", '{"a": "é"}']


def test_rows_to_table_puts_axes_first_as_strings() -> None:
    rows = [{"status": "COMPLETE", "A": 1, "B": "x", "s": 1}, {"A": 2, "B": "y", "status": "COMPLETE", "t": 0.5}]
    table = rows_to_table(rows, ["A", "B"])
    assert table.column_names == ["A", "B", "status", "s", "t"]
    assert table.schema.types == [pa.string(), pa.string(), pa.string(), pa.int64(), pa.float64()]
    assert table.to_pylist()[1] == {"A": "2", "B": "y", "status": "COMPLETE", "s": None, "t": 0.5}


def test_rows_to_table_keeps_nan_apart_from_null() -> None:
    table = rows_to_table([{"A": "1", "s": float("nan")}, {"A": "2", "s": None}], ["A"])
    assert table.column("s").null_count == 1 and math.isnan(table.column("s")[0].as_py())


def test_rows_to_table_with_no_rows() -> None:
    table = rows_to_table([], ["A"])
    assert table.num_rows == 0 and table.column_names == ["A"]


def test_pivot_single_metric() -> None:
    rows = [{k: v for k, v in row.items() if k != "hits"} for row in ROWS]
    ((name, table),) = pivot(rows_to_table(rows, ["D", "M"]), "M", ["D", "M"])
    assert name == "ndcg"
    assert table.column_names == ["D", "bm25", "dense"]
    assert table.to_pylist() == [
        {"D": "nq", "bm25": 0.5, "dense": 0.75},
        {"D": "msm", "bm25": 0.25, "dense": None},
    ]
    assert table.schema.field("bm25").type == pa.float64()


def test_pivot_several_metrics_gives_a_table_each() -> None:
    tables = pivot(rows_to_table(ROWS, ["D", "M"]), "D", ["D", "M"])
    assert [name for name, _ in tables] == ["ndcg", "hits"]
    hits = tables[1][1]
    assert hits.column_names == ["M", "nq", "msm"]
    assert hits.to_pylist() == [{"M": "bm25", "nq": 3, "msm": 1}, {"M": "dense", "nq": 4, "msm": None}]
    assert hits.schema.field("nq").type == pa.int64()


def test_pivot_on_the_only_axis_gives_one_row() -> None:
    table = rows_to_table([{"M": "a", "status": "COMPLETE", "s": 1}, {"M": "b", "status": "COMPLETE", "s": 2}], ["M"])
    ((_, pivoted),) = pivot(table, "M", ["M"])
    assert pivoted.to_pylist() == [{"a": 1, "b": 2}]


def test_pivot_keeps_query_ids_as_row_keys_and_first_value_wins() -> None:
    rows = [
        {"M": "a", "status": "COMPLETE", "id": "q1", "map": 0.5},
        {"M": "b", "status": "COMPLETE", "id": "q1", "map": 0.1},
        {"M": "a", "status": "COMPLETE", "id": "q2", "map": 0.2},
        {"M": "a", "status": "COMPLETE", "id": "q2", "map": 0.9},
    ]
    ((_, table),) = pivot(rows_to_table(rows, ["M"]), "M", ["M"])
    assert table.to_pylist() == [{"id": "q1", "a": 0.5, "b": 0.1}, {"id": "q2", "a": 0.2, "b": None}]


def test_pivot_without_metrics_shows_status() -> None:
    table = rows_to_table([{"M": "a", "status": "FAILED"}, {"M": "b", "status": "PENDING"}], ["M"])
    assert [(n, t.to_pylist()) for n, t in pivot(table, "M", ["M"])] == [
        ("status", [{"a": "FAILED", "b": "PENDING"}])
    ]


def test_pivot_on_unknown_axis_suggests() -> None:
    with pytest.raises(
        AxisError, match="cannot pivot on `Modle`: the table's axes are `D` and `Model`"
    ) as info:
        pivot(rows_to_table([{"D": "x", "Model": "y", "s": 1}], ["D", "Model"]), "Modle", ["D", "Model"])
    assert info.value.diagnostic.help == "did you mean `Model`?"


def test_write_parquet_csv_tsv_json_jsonl_and_read_back(tmp_path: Path) -> None:
    table = rows_to_table(ROWS, ["D", "M"])
    assert pq.read_table(write_table(table, tmp_path / "out" / "t.parquet")).equals(table)
    csv_back = pacsv.read_csv(write_table(table, tmp_path / "t.csv"))
    assert csv_back.column("ndcg").to_pylist() == [0.5, 0.75, 0.25, None]
    assert csv_back.column("D").to_pylist() == ["nq", "nq", "msm", "msm"]
    tsv = write_table(table, tmp_path / "t.tsv").read_text()
    assert tsv.splitlines()[0] == '"D"\t"M"\t"status"\t"ndcg"\t"hits"'
    assert json.loads(write_table(table, tmp_path / "t.json").read_text()) == ROWS
    lines = write_table(table, tmp_path / "t.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "t.csv", "t.json", "t.jsonl", "t.tsv"]


def test_write_json_turns_nan_into_null_and_handles_empty(tmp_path: Path) -> None:
    table = rows_to_table([{"A": "1", "s": float("nan")}], ["A"])
    assert json.loads(write_table(table, tmp_path / "t.json").read_text()) == [{"A": "1", "s": None}]
    assert json.loads(write_table(table.slice(0, 0), tmp_path / "e.json").read_text()) == []


def test_write_with_explicit_format_and_null_column(tmp_path: Path) -> None:
    table = rows_to_table([{"A": "1", "s": None}], ["A"])
    path = write_table(table, tmp_path / "table", format="parquet")
    assert pq.read_table(path).column_names == ["A", "s"]
    assert pacsv.read_csv(write_table(table, tmp_path / "n.csv")).num_rows == 1


def test_write_unknown_suffix_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown format"):
        write_table(rows_to_table(ROWS, ["D", "M"]), tmp_path / "t.xlsx")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (3, "3"),
        (0.68123, "0.6812"),
        (0.0, "0.0000"),
        (1.5, "1.5000"),
        (0.00001234, "1.234e-05"),
        (1e20, "1e+20"),
        (float("nan"), "nan"),
        ("x", "x"),
        (-12345.678, "-12345.6780"),
    ],
    ids=repr,
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


def test_table_to_text_rows() -> None:
    header, rows = table_to_text_rows(rows_to_table(ROWS[2:], ["D", "M"]))
    assert header == ["D", "M", "status", "ndcg", "hits"]
    assert rows == [["msm", "bm25", "COMPLETE", "0.2500", "1"], ["msm", "dense", "FAILED", "", ""]]
