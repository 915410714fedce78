"""The column-wise reader of `name id value` text gives exactly what the Python parser gives: the same rows
in the same order, the same columns in the same order, the same types; and it hands every file it cannot
read that way back to the Python parser."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hypermetric.results.arrow import rows_to_table
from hypermetric.results.assemble import collect_table
from hypermetric.results.collect import CaseResult, collect_rows
from hypermetric.results.readers import COLUMNAR_TEXT_BYTES, read_output, read_records
from hypermetric.results.textcolumns import read_columns
from hypermetric.results.textformats import parse_text


def same_cells(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def assert_same_table(got: pa.Table, want: pa.Table) -> None:
    assert got.schema == want.schema
    for name in want.column_names:
        left, right = got.column(name).to_pylist(), want.column(name).to_pylist()
        assert len(left) == len(right) and all(map(same_cells, left, right)), name


def assert_matches_python(text: str, per_query: bool, *, must_read: bool = True) -> None:
    """`read_columns` on `text` agrees with the Python parser (and reads it, unless `must_read` is off)."""
    got = read_columns(text.encode(), per_query)
    want = parse_text(text, "text", per_query=per_query)
    if got is None:
        assert not must_read, "the column-wise reader gave the file back"
        return
    if isinstance(got, list):
        assert [list(g) for g in got] == [list(w) for w in want]
        assert all(same_cells(a, b) for g, w in zip(got, want, strict=True) for a, b in
                   zip(g.values(), w.values(), strict=True))
        return
    assert_same_table(got, rows_to_table(want, []))


TREC = """\
runid                 \tall\tBM25
num_q                 \tall\t2
num_ret               \tq1\t1000
map                   \tq1\t0.5
ndcg_cut_10           \tq1\t0.7
num_ret               \tq2\t998
map                   \tq2\t0.25
num_ret               \tall\t1998
map                   \tall\t0.375
ndcg_cut_10           \tall\t0.6812
"""


@pytest.mark.parametrize("per_query", [True, False])
def test_trec_eval_output(per_query):
    assert_matches_python(TREC, per_query)


def test_trec_eval_per_query_table_types_and_order():
    table = read_columns(TREC.encode(), True)
    assert table.column_names == ["id", "num_ret", "map", "ndcg_cut_10", "runid", "num_q"]
    assert [str(t) for t in table.schema.types] == ["string", "int64", "double", "double", "string", "int64"]
    assert table.column("id").to_pylist() == ["q1", "q2", "all"]
    assert table.column("ndcg_cut_10").to_pylist() == [0.7, None, 0.6812]


@pytest.mark.parametrize("text", [
    "map q1 0.5\nmap q2 0.25\n",  # single spaces, no summary
    "m1\tq1\t1\nm2\tq2\t2\nm3\tq1\t3\n",  # m3 belongs to q1's record, so it comes before m2
    "a\tq2\t1\nb\tq1\t0.5\na\tq1\t2\nb\tq2\t7\n",  # ids in order of first appearance
    "n\tq1\t3\nn\tq2\t4\nn\tall\t3.5\n",  # integers per id, a float summary: a float column
    "n\tq1\t3\nn\tq2\t0.5\nn\tall\t3\n",
    "x\tq1\t+5\nx\tq2\t007\nx\tq3\t-0\nx\tall\t-12\n",  # what Python reads as ints
    "x\tq1\tnan\nx\tq2\t-inf\nx\tq3\t1e5\nx\tq4\t.5\nx\tq5\tInfinity\nx\tall\tNaN\n",
    "x\tq 1\t0.5\n  x  \t  q2  \t  0.25  \n",  # fields are stripped; ids may hold spaces
    "x\tq1\t0.5\r\nx\tq2\t0.25\r\n\r\n\nx\tall\t0.375",  # CRLF, blank lines, no final newline
    "x\tq1\t0.5\nname\tall\tsome text\nx\tall\t0.5\n",  # a text value only in the summary
    "x\tall\t1\nx\tall\t2\ny\tall\t3\n",  # a summary only, a name given twice: the last value wins
    "x\tq1\t9223372036854775807\nx\tq2\t-9223372036854775808\n",
])
@pytest.mark.parametrize("per_query", [True, False])
def test_plain_shapes_agree(text, per_query):
    assert_matches_python(text, per_query)


@pytest.mark.parametrize("text", [
    "# a comment\nx\tq1\t0.5\n",
    "x\tq1\t0.5\ny\t0.25\n",  # a `name value` line
    "x\tq1\tgood\nx\tq2\t0.5\n",  # a text value per id
    "x\tq1\t0x10\n",  # an int to Arrow's cast, text to Python
    "x\tq1\tnan(1)\n",
    "x\tq1\t99999999999999999999\n",  # past 64 bits
    "x\tq1\t0.5\nx\tq1\t0.7\n",  # a name given twice for one id
    "id\tq1\t5\n",  # would overwrite the record's id
    "x\tq1\t\n",  # an empty value
    "x  q1 0.5\n",  # runs of spaces
    "x\tq1\t0.5\nx q2 0.25\n",  # tabs on some lines only
    "x\tq1\t0.5\tmore\n",
    "x\tq\u00e91\t0.5\n",  # not ASCII
    "x\tq1\t0.5\x0cx\tq2\t1\n",  # a form feed: a line break to Python
])
@pytest.mark.parametrize("per_query", [True, False])
def test_other_shapes_go_back_to_the_python_parser(text, per_query):
    assert read_columns(text.encode(), per_query) is None


def test_a_summary_past_64_bits_is_read_only_without_its_per_query_column():
    text = "x\tq1\t1\nx\tq2\t2\nx\tall\t99999999999999999999\n"
    assert read_columns(text.encode(), True) is None
    assert_matches_python(text, False)


_NAMES = st.sampled_from(["map", "P_5", "num_ret", "runid", "id", "x y"])
_IDS = st.sampled_from(["q1", "q2", "10", "all", "q 3", "", "#4"])
_VALUES = st.sampled_from(["0.5", "1", "+2", "007", "nan", "-inf", "1e5", "abc", "0x10", "", "1.5", "-3",
                           "99999999999999999999", "1_0"])
_LINES = st.lists(st.tuples(_NAMES, _IDS, _VALUES, st.sampled_from(["\t", "\t ", " \t", " "])), max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=_LINES, per_query=st.booleans())
@example(lines=[("map", "q1", "0.5", "\t"), ("map", "q2", "99999999999999999999", "\t")], per_query=False)
@example(lines=[("map", "q1", "0.5", " "), ("map", "q2", "-99999999999999999999", " ")], per_query=True)
def test_any_lines_agree_or_go_back(lines, per_query):
    text = "".join(f"{name}{sep}{id_}{sep}{value}\n" for name, id_, value, sep in lines)
    try:
        want = parse_text(text, "text", per_query=per_query)
    except Exception:  # an error of the Python parser: the column-wise reader must not read it
        assert read_columns(text.encode(), per_query) is None
        return
    del want
    assert_matches_python(text, per_query, must_read=False)


def big_trec(path: Path, queries: int, offset: float = 0.0) -> Path:
    lines = []
    for q in range(1, queries + 1):
        lines.append(f"num_ret               \t{q}\t{q % 7 + 990}\n")
        lines.append(f"map                   \t{q}\t{(q * 37 % 17) / 20 + offset:.4f}\n")
    lines.append("runid                 \tall\tsystem\n")
    lines.append(f"map                   \tall\t{0.5 + offset:.4f}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))
    assert path.stat().st_size >= COLUMNAR_TEXT_BYTES
    return path


def test_large_text_output_is_read_as_a_table(tmp_path):
    path = big_trec(tmp_path / "eval.txt", 4000)
    table = read_output(path, per_query=True)
    assert isinstance(table, pa.Table) and table.num_rows == 4001
    assert read_output(path) == [{"runid": "system", "map": 0.5}]
    assert_same_table(table, rows_to_table(read_records(path, per_query=True), []))


def test_results_table_is_the_same_either_way(tmp_path):
    """Large per-query outputs assembled from tables equal the table built from Python records, small
    outputs and a failed case among them."""
    cases = [CaseResult({"Model": "a"}, path=str(big_trec(tmp_path / "a" / "eval.txt", 4000))),
             CaseResult({"Model": "b"}, path=str(big_trec(tmp_path / "b" / "eval.txt", 4500, 0.25))),
             CaseResult({"Model": "c"}, status="FAILED"),
             CaseResult({"Model": "d"}, path=str(tmp_path / "small.txt"))]
    (tmp_path / "small.txt").write_text("map\tq1\t1\nmap\tall\t1\n")
    got = collect_table(cases, ["Model"], per_query=True)
    want = rows_to_table(collect_rows(cases, per_query=True), ["Model"])
    assert_same_table(got, want)
    assert got.column_names == ["Model", "status", "id", "num_ret", "map", "runid"]
