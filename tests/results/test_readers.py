"""Reading one output file into records, for every supported format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyarrow import feather, ipc

from hypermetric.errors import StoreError
from hypermetric.results.readers import (
    MissingResultError,
    ResultReadError,
    flatten,
    parse_scalar,
    parse_text,
    read_records,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("-2", -2),
        ("+7", 7),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("+.5", 0.5),
        (" 3 ", 3),
        ("abc", "abc"),
        ("1_000", "1_000"),
        ("", None),
        ("  ", None),
        ("12abc", "12abc"),
        ("-", "-"),
        ("inf", math.inf),
        ("-Infinity", -math.inf),
        ("all", "all"),
    ],
    ids=repr,
)
def test_parse_scalar(text: str, expected: object) -> None:
    value = parse_scalar(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["nan", "NaN", "-nan"])
def test_parse_scalar_nan(text: str) -> None:
    value = parse_scalar(text)
    assert isinstance(value, float) and math.isnan(value)


def test_flatten_nested_objects() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": [1, 2]}) == {"a.b": 1, "a.c.d": "x", "e": [1, 2]}


def test_flatten_returns_flat_object_unchanged() -> None:
    obj = {"a": 1, "b": "x"}
    assert flatten(obj) is obj


leaves = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=3), st.none())
nested = st.recursive(
    leaves,
    lambda inner: st.dictionaries(st.text("abc", min_size=1, max_size=2), inner, max_size=3),
    max_leaves=12,
)


def count_leaves(obj: object) -> int:
    """Non-object values at any depth (an empty object holds none)."""
    return sum(count_leaves(v) for v in obj.values()) if isinstance(obj, dict) else 1


@given(st.dictionaries(st.text("xyz", min_size=1, max_size=2), nested, max_size=4))
def test_flatten_keeps_every_leaf_and_leaves_no_object(obj: dict) -> None:
    flat = flatten(obj)
    assert not any(isinstance(v, dict) for v in flat.values())
    assert len(flat) == count_leaves(obj)


def test_json_object_is_one_flattened_record(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", json.dumps({"ndcg": {"@10": 0.68}, "num_q": 50, "run": "bm25"}))
    assert read_records(path) == [{"ndcg.@10": 0.68, "num_q": 50, "run": "bm25"}]


def test_json_array_of_objects_is_several_records(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", '[{"q": "1", "s": {"p": 1}}, {"q": "2", "s": {"p": 0.5}}]')
    assert read_records(path) == [{"q": "1", "s.p": 1}, {"q": "2", "s.p": 0.5}]


def test_json_keeps_its_types_and_nan(tmp_path: Path) -> None:
    (record,) = read_records(write(tmp_path, "m.json", '{"a": "0.5", "b": NaN, "c": true, "d": null}'))
    assert record["a"] == "0.5" and record["c"] is True and record["d"] is None
    assert math.isnan(record["b"])


def test_json_scalar_is_a_value_record(tmp_path: Path) -> None:
    assert read_records(write(tmp_path, "m.json", "0.25\n")) == [{"value": 0.25}]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1', "invalid JSON at line 1"),
        ('[{"a": 1}, 2]', "not all objects"),
    ],
)
def test_bad_json_is_an_error(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ResultReadError, match=reason) as info:
        read_records(write(tmp_path, "m.json", text))
    assert info.value.path.endswith("m.json")


@pytest.mark.parametrize("name", ["m.jsonl", "m.ndjson", "m.txt", "m"])
def test_json_lines(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, '{"q": 1, "s": {"p": 0.5}}\n\n{"q": 2, "s": {"p": 1}}\n')
    assert read_records(path) == [{"q": 1, "s.p": 0.5}, {"q": 2, "s.p": 1}]


def test_json_lines_bad_line_names_it(tmp_path: Path) -> None:
    with pytest.raises(ResultReadError, match="line 2"):
        read_records(write(tmp_path, "m.jsonl", '{"a": 1}\n{"a":\n'))


def test_csv_with_header_types_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", 'query,ndcg,hits,note\nq1,0.5,3,ok\nq2,nan,,"a, b"\n')
    first, second = read_records(path)
    assert first == {"query": "q1", "ndcg": 0.5, "hits": 3, "note": "ok"}
    assert math.isnan(second["ndcg"]) and second["hits"] is None and second["note"] == "a, b"


def test_csv_short_rows_are_padded_and_long_rows_rejected(tmp_path: Path) -> None:
    assert read_records(write(tmp_path, "a.csv", "a,b,c\n1,2\n")) == [{"a": 1, "b": 2, "c": None}]
    with pytest.raises(ResultReadError, match="row 2 has 3 fields but the header has 2"):
        read_records(write(tmp_path, "b.csv", "a,b\n1,2,3\n"))


def test_csv_sniffs_its_delimiter(tmp_path: Path) -> None:
    assert read_records(write(tmp_path, "m.csv", "a;b\n1;x\n2;y\n")) == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def test_tsv(tmp_path: Path) -> None:
    assert read_records(write(tmp_path, "m.tsv", "name\tscore\nq 1\t0.5\n")) == [
        {"name": "q 1", "score": 0.5}
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2\n", [{"a": 1, "b": 2}]),
        (
            "metric\tvalue\nndcg\t0.5\nmap\t0.25\n",
            [{"metric": "ndcg", "value": 0.5}, {"metric": "map", "value": 0.25}],
        ),
    ],
    ids=["csv", "tsv"],
)
def test_sniffed_tables(tmp_path: Path, text: str, expected: list) -> None:
    assert read_records(write(tmp_path, "metrics.out", text)) == expected


def test_empty_files_have_no_records(tmp_path: Path) -> None:
    for name in ["a.csv", "a.jsonl", "a.txt", "a"]:
        assert read_records(write(tmp_path, name, "\n")) == []


def test_name_value_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "m.txt", "# comment\naccuracy 0.91\nloss\t1.5e-2\nmodel bert\n")
    assert read_records(path) == [{"accuracy": 0.91, "loss": 0.015, "model": "bert"}]


TREC = """runid                 \tall\tBM25
num_q                 \tall\t2
map                   \tq1\t0.5
ndcg_cut_10           \tq1\t0.7
map                   \tq2\t0.25
map                   \tall\t0.375
ndcg_cut_10           \tall\t0.6812
"""


def test_trec_eval_keeps_the_all_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "trec.txt", TREC)
    assert read_records(path) == [{"runid": "BM25", "num_q": 2, "map": 0.375, "ndcg_cut_10": 0.6812}]


def test_trec_eval_per_query(tmp_path: Path) -> None:
    records = read_records(write(tmp_path, "trec", TREC), per_query=True)
    assert records == [
        {"id": "q1", "map": 0.5, "ndcg_cut_10": 0.7},
        {"id": "q2", "map": 0.25},
        {"id": "all", "runid": "BM25", "num_q": 2, "map": 0.375, "ndcg_cut_10": 0.6812},
    ]


def test_trec_eval_space_separated_without_per_query_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "trec.txt", "ndcg_cut_10   all  0.6812\nP_5  all 0.4\n")
    assert read_records(path, per_query=True) == [{"ndcg_cut_10": 0.6812, "P_5": 0.4}]


def test_per_query_lines_only_still_give_records() -> None:
    assert parse_text("map q1 0.5\nmap q2 0.25\n", "text") == [
        {"id": "q1", "map": 0.5},
        {"id": "q2", "map": 0.25},
    ]


def test_single_number_file(tmp_path: Path) -> None:
    assert read_records(write(tmp_path, "score", "0.75\n")) == [{"value": 0.75}]


def test_bad_text_line_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ResultReadError, match="line 2: expected `name value` or `name id value`, found 4"):
        read_records(write(tmp_path, "m.txt", "a 1\nb c d e\n"))


TABLE = pa.table(
    {
        "q": ["1", "2"],
        "score": [0.5, 1.0],
        "hits": [3, None],
        "extra": pa.array([{"p": 1}, {"p": 2}], pa.struct([("p", pa.int64())])),
    }
)
EXPECTED = [
    {"q": "1", "score": 0.5, "hits": 3, "extra.p": 1},
    {"q": "2", "score": 1.0, "hits": None, "extra.p": 2},
]


def test_parquet(tmp_path: Path) -> None:
    pq.write_table(TABLE, tmp_path / "m.parquet")
    assert read_records(tmp_path / "m.parquet") == EXPECTED


def test_arrow_file_stream_and_feather(tmp_path: Path) -> None:
    with ipc.new_file(str(tmp_path / "f.arrow"), TABLE.schema) as writer:
        writer.write_table(TABLE)
    with ipc.new_stream(str(tmp_path / "s.arrow"), TABLE.schema) as writer:
        writer.write_table(TABLE)
    feather.write_feather(TABLE, str(tmp_path / "t.feather"))
    for name in ["f.arrow", "s.arrow", "t.feather"]:
        assert read_records(tmp_path / name) == EXPECTED, name


def test_binary_tables_are_sniffed(tmp_path: Path) -> None:
    pq.write_table(TABLE, tmp_path / "parquet_out")
    with ipc.new_file(str(tmp_path / "arrow_out"), TABLE.schema) as writer:
        writer.write_table(TABLE)
    assert read_records(tmp_path / "parquet_out") == EXPECTED
    assert read_records(tmp_path / "arrow_out") == EXPECTED


def test_corrupt_parquet_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ResultReadError, match="not a readable parquet file"):
        read_records(write(tmp_path, "m.parquet", "not parquet"))


def test_missing_file(tmp_path: Path) -> None:
    for name in ["nope.json", "nope.parquet", "nope"]:
        with pytest.raises(MissingResultError) as info:
            read_records(tmp_path / name)
        assert isinstance(info.value, StoreError)
        assert "no such file" in str(info.value)


def test_directory_and_binary_junk_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultReadError, match="a directory"):
        read_records(tmp_path)
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ResultReadError, match="not UTF-8"):
        read_records(tmp_path / "bin")


def test_explicit_format_overrides_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", "a 1\n")
    assert read_records(path, format="text") == [{"a": 1}]
    with pytest.raises(ResultReadError, match="unknown format `xml`"):
        read_records(path, format="xml")
