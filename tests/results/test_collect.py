"""Cases and their output files to rows, without Arrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hypermetric.results.collect import CaseResult, case_status, collect_rows
from hypermetric.results.readers import ResultReadError


def job(tmp_path: Path, name: str, content: object, file: str = "metrics.json") -> str:
    directory = tmp_path / name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_axis_columns_then_status_then_fields(tmp_path: Path) -> None:
    cases = [
        CaseResult({"Dataset": "nq", "Model": "bm25"}, path=job(tmp_path, "a", {"ndcg": 0.5, "x": {"y": 1}})),
        CaseResult({"Dataset": "nq", "Model": "dense"}, path=job(tmp_path, "b", {"ndcg": 0.7, "mrr": 0.4})),
    ]
    rows = collect_rows(cases)
    assert rows == [
        {"Dataset": "nq", "Model": "bm25", "status": "COMPLETE", "ndcg": 0.5, "x.y": 1, "mrr": None},
        {"Dataset": "nq", "Model": "dense", "status": "COMPLETE", "ndcg": 0.7, "x.y": None, "mrr": 0.4},
    ]
    assert [list(row) for row in rows] == [["Dataset", "Model", "status", "ndcg", "x.y", "mrr"]] * 2


def test_cases_that_are_not_done_are_kept_as_status_rows(tmp_path: Path) -> None:
    bad = job(tmp_path, "bad", "{oops")
    empty = job(tmp_path, "empty", "", file="m.csv")
    cases = [
        CaseResult({"M": "a"}, path=job(tmp_path, "a", {"score": 1})),
        CaseResult({"M": "b"}, status="FAILED"),
        CaseResult({"M": "c"}, status="PENDING", path=str(tmp_path / "c" / "metrics.json")),
        CaseResult({"M": "d"}, path=str(tmp_path / "d" / "metrics.json")),
        CaseResult({"M": "e"}, path=bad),
        CaseResult({"M": "f"}, path=empty),
        CaseResult({"M": "g"}, path=None),
    ]
    rows = collect_rows(cases)
    assert [(r["M"], r["status"], r["score"]) for r in rows] == [
        ("a", "COMPLETE", 1),
        ("b", "FAILED", None),
        ("c", "PENDING", None),
        ("d", "MISSING", None),
        ("e", "UNREADABLE", None),
        ("f", "EMPTY", None),
        ("g", "MISSING", None),
    ]
    errors = {r["M"]: r["error"] for r in rows}
    assert errors["a"] is None and errors["b"] is None
    assert "no such file" in errors["d"] and "invalid JSON" in errors["e"]
    assert list(rows[0]) == ["M", "status", "score", "error"]


def test_row_statuses_are_the_job_statuses_dry_run_prints() -> None:
    jobs = ("SUCCESS", "COMPLETE", "OUTDATED", "FAILED", "PENDING", "SKIPPED", "RUNNING", "WAITING")
    assert [case_status(s) for s in jobs] == ["COMPLETE", "COMPLETE", "OUTDATED", "FAILED"] + ["PENDING"] * 4


def test_an_outdated_case_is_read_and_says_so(tmp_path: Path) -> None:
    cases = [
        CaseResult({"M": "a"}, "OUTDATED", job(tmp_path, "a", {"s": 1})),
        CaseResult({"M": "b"}, "OUTDATED", job(tmp_path, "b", "", file="m.csv")),
        CaseResult({"M": "c"}, "OUTDATED", str(tmp_path / "c" / "metrics.json")),
    ]
    assert [(r["M"], r["status"], r["s"]) for r in collect_rows(cases)] == [
        ("a", "OUTDATED", 1),
        ("b", "EMPTY", None),
        ("c", "MISSING", None),
    ]


def test_no_error_column_when_everything_reads(tmp_path: Path) -> None:
    rows = collect_rows(
        [CaseResult({"M": "a"}, path=job(tmp_path, "a", {"s": 1})), CaseResult({"M": "b"}, "FAILED")]
    )
    assert list(rows[1]) == ["M", "status", "s"]


def test_per_query_gives_a_row_per_record(tmp_path: Path) -> None:
    trec = "map\tq1\t0.5\nmap\tq2\t0.25\nmap\tall\t0.375\n"
    cases = [
        CaseResult({"M": "a"}, path=job(tmp_path, "a", trec, file="eval.txt")),
        CaseResult({"M": "b"}, "FAILED"),
    ]
    assert collect_rows(cases) == [
        {"M": "a", "status": "COMPLETE", "map": 0.375},
        {"M": "b", "status": "FAILED", "map": None},
    ]
    rows = collect_rows(cases, per_query=True)
    assert [(r["M"], r["id"], r["map"]) for r in rows] == [
        ("a", "q1", 0.5),
        ("a", "q2", 0.25),
        ("a", "all", 0.375),
        ("b", None, None),
    ]


def test_meta_columns(tmp_path: Path) -> None:
    meta = {"duration": 1.5, "attempt": 2, "host": "n1", "start": "t0"}
    cases = [
        CaseResult({"M": "a"}, path=job(tmp_path, "a", {"s": 1}), meta=meta),
        CaseResult({"M": "b"}, "FAILED"),
    ]
    rows = collect_rows(cases, with_meta=True)
    assert rows[0] == {"M": "a", "status": "COMPLETE", "duration_s": 1.5, "attempt": 2, "host": "n1", "s": 1}
    assert rows[1] == {
        "M": "b",
        "status": "FAILED",
        "duration_s": None,
        "attempt": None,
        "host": None,
        "s": None,
    }
    assert "duration_s" not in collect_rows(cases)[0]


def test_fields_that_clash_with_columns_are_renamed(tmp_path: Path) -> None:
    rows = collect_rows([CaseResult({"M": "a"}, path=job(tmp_path, "a", {"status": "ok", "M": 3, "s": 1}))])
    assert rows == [{"M": "a", "status": "COMPLETE", "output.status": "ok", "output.M": 3, "s": 1}]


def test_cases_with_different_axes(tmp_path: Path) -> None:
    cases = [
        CaseResult({"A": "1"}, path=job(tmp_path, "a", {"s": 1})),
        CaseResult({"A": "2", "B": "x"}, path=job(tmp_path, "b", {"s": 2})),
    ]
    assert collect_rows(cases) == [
        {"A": "1", "B": None, "status": "COMPLETE", "s": 1},
        {"A": "2", "B": "x", "status": "COMPLETE", "s": 2},
    ]


def test_custom_reader_and_its_errors() -> None:
    def reader(path: str, per_query: bool = False) -> list[dict]:
        if path == "boom":
            raise ResultReadError(path, "bad bytes")
        if path == "denied":
            raise PermissionError(13, "Permission denied")
        return [{"len": len(path), "per_query": per_query}]

    cases = [
        CaseResult({"A": "1"}, path="xyz"),
        CaseResult({"A": "2"}, path="boom"),
        CaseResult({"A": "3"}, path="denied"),
    ]
    rows = collect_rows(cases, reader=reader, per_query=True)
    assert [(r["status"], r["len"], r["per_query"], r["error"]) for r in rows] == [
        ("COMPLETE", 3, True, None),
        ("UNREADABLE", None, None, "bad bytes"),
        ("UNREADABLE", None, None, "Permission denied"),
    ]


def test_no_cases_no_rows() -> None:
    assert collect_rows([]) == []


def test_collect_does_not_import_pyarrow(tmp_path: Path) -> None:
    path = job(tmp_path, "a", {"s": 1})
    code = (
        "import sys; from hypermetric.results import CaseResult, collect_rows; "
        f"rows = collect_rows([CaseResult({{'A': '1'}}, path={path!r})]); assert rows[0]['s'] == 1; "
        "print('pyarrow' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("status", ["FAILED", "PENDING", "SKIPPED"])
def test_not_done_cases_are_not_read(status: str) -> None:
    def reader(path: str, per_query: bool = False) -> list[dict]:
        raise AssertionError("read a case that is not done")

    assert collect_rows([CaseResult({"A": "1"}, status, "p")], reader=reader) == [
        {"A": "1", "status": status}
    ]
