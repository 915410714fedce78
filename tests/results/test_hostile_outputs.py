"""Outputs a job may leave behind that are not results: each gives an `unreadable` row with a reason, and
never a crash, a hang or unbounded memory; large tables are read by pyarrow, in bounded memory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hypermetric.results import readers, tablereaders
from hypermetric.results.arrow import rows_to_table
from hypermetric.results.assemble import collect_table
from hypermetric.results.collect import CaseResult, collect_rows

DEEP = 5000


def _hostile(folder: Path, kind: str) -> Path:
    """An output of the given kind, named `m.json` as a task would name it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "m.json"
    if kind == "deep-array":
        path.write_text("[" * DEEP + "]" * DEEP)
    elif kind == "deep-object":
        path.write_text('{"a": ' * DEEP + "1" + "}" * DEEP)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "binary":
        rng = random.Random(1)
        path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    elif kind == "zeros":
        path.write_bytes(bytes(4096))
    elif kind == "good":
        path.write_text('{"score": 0.5}')
    return path


KINDS = {"deep-array": "nested too deeply", "deep-object": "nested too deeply", "fifo": "a FIFO",
         "dev-zero": "a character device", "binary": "not UTF-8", "zeros": "binary content"}


def _bounded(fn, timeout: float = 120):
    """`fn()` in a daemon thread, so that a read that blocks fails the test instead of hanging it; what it
    raises is raised here."""
    out: dict[str, object] = {}

    def call() -> None:
        try:
            out["value"] = fn()
        except BaseException as error:  # handed to the test's thread
            out["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(timeout)
    assert out, "reading the outputs did not finish"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_each_hostile_output_is_an_unreadable_row_and_the_good_one_is_read(tmp_path):
    cases = [CaseResult({"Kind": kind}, path=str(_hostile(tmp_path / kind, kind))) for kind in ["good", *KINDS]]
    table = _bounded(lambda: collect_table(cases, ["Kind"]))
    rows = {row["Kind"]: row for row in table.to_pylist()}
    assert rows["good"]["status"] == "COMPLETE" and rows["good"]["score"] == 0.5
    for kind, reason in KINDS.items():
        assert rows[kind]["status"] == "UNREADABLE", kind
        assert reason in rows[kind]["error"], (kind, rows[kind]["error"])
        assert rows[kind]["score"] is None


@pytest.mark.parametrize("name", ["m.jsonl", "m.parquet", "m.csv", "m"])
def test_non_regular_files_are_refused_whatever_their_name(tmp_path, name):
    os.mkfifo(tmp_path / name)
    with pytest.raises(readers.ResultReadError, match="a FIFO"):
        _bounded(lambda: readers.read_output(tmp_path / name))
    (tmp_path / f"z-{name}").symlink_to("/dev/zero")
    with pytest.raises(readers.ResultReadError, match="a character device"):
        _bounded(lambda: readers.read_output(tmp_path / f"z-{name}"))


def test_deep_json_lines_are_unreadable(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"a": 1}\n' + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(readers.ResultReadError, match="line 2: JSON nested too deeply"):
        readers.read_records(path)


def test_text_past_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_TEXT_BYTES", 100)
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"x": "y" * 200}))
    with pytest.raises(readers.ResultReadError, match="over the 100 bytes limit for json outputs"):
        readers.read_records(path)


CSV = 'query,ndcg,hits,note,flag,day\nq1,0.5,3,ok,true,2024-01-02\nq2,nan,,"a, b",false,2024-01-03\n' \
      'q3,inf,7,,True,x\n'


def test_a_large_csv_read_by_pyarrow_types_cells_as_the_python_reader_does(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "m.csv").write_text(CSV)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "m.csv").write_text("query,ndcg,hits\nq9,1,2.5\n")
    cases = [CaseResult({"R": "a"}, path=str(tmp_path / "a" / "m.csv")),
             CaseResult({"R": "b"}, path=str(tmp_path / "b" / "m.csv")),
             CaseResult({"R": "c"}, path=str(tmp_path / "nope.csv"))]
    expected = rows_to_table(collect_rows(cases), ["R"])
    monkeypatch.setattr(readers, "LARGE_TEXT_BYTES", 40)  # the first file is large, the second is not
    assert isinstance(readers.read_output(tmp_path / "a" / "m.csv"), pa.Table)
    table = collect_table(cases, ["R"])
    assert table.schema == expected.schema
    rows, expected_rows = table.to_pylist(), expected.to_pylist()
    assert rows[:1] + rows[2:] == expected_rows[:1] + expected_rows[2:]  # (the second row has a NaN)
    nan_row = rows[1]
    assert {k: v for k, v in nan_row.items() if k != "ndcg"} == {
        k: v for k, v in expected_rows[1].items() if k != "ndcg"}
    assert nan_row["ndcg"] != nan_row["ndcg"] and nan_row["hits"] is None and nan_row["note"] == "a, b"


def test_a_large_parquet_output_keeps_its_case_columns_and_flattens_structs(tmp_path, monkeypatch):
    monkeypatch.setattr(tablereaders, "SMALL_TABLE_ROWS", 3)
    table = pa.table({"id": pa.array([1, 2, 3], pa.int32()), "m": [{"p": 0.5, "r": 1}, {"p": 0.25, "r": 2},
                                                                      {"p": None, "r": 3}],
                      "status": ["x", "y", "z"], "tags": [["a"], [], None]})
    pq.write_table(table, tmp_path / "big.parquet")
    (tmp_path / "small.json").write_text('{"id": 9, "m": {"p": 1}}')
    cases = [CaseResult({"R": "small"}, path=str(tmp_path / "small.json")),
             CaseResult({"R": "big"}, path=str(tmp_path / "big.parquet")),
             CaseResult({"R": "gone"}, status="FAILED")]
    result = collect_table(cases, ["R"])
    assert result.column_names == ["R", "status", "id", "m.p", "m.r", "output.status", "tags"]
    assert result.to_pylist()[1:4] == [
        {"R": "big", "status": "COMPLETE", "id": 1, "m.p": 0.5, "output.status": "x", "m.r": 1, "tags": '["a"]'},
        {"R": "big", "status": "COMPLETE", "id": 2, "m.p": 0.25, "output.status": "y", "m.r": 2, "tags": "[]"},
        {"R": "big", "status": "COMPLETE", "id": 3, "m.p": None, "output.status": "z", "m.r": 3, "tags": None}]
    assert result.column("m.p").type == pa.float64() and result.column("id").type == pa.int64()
    assert result.to_pylist()[4]["status"] == "FAILED"


_MEASURE = textwrap.dedent("""
    import resource, sys
    import pyarrow, pyarrow.csv, pyarrow.compute, pyarrow.parquet
    from hypermetric.results.assemble import collect_table
    from hypermetric.results.collect import CaseResult
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table = collect_table([CaseResult({"A": "a"}, path=sys.argv[1])], ["A"])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(table.num_rows, (after - before) // 1024)
""")


def test_a_large_csv_output_is_read_in_bounded_memory(tmp_path):
    rng = random.Random(0)
    path = tmp_path / "m.csv"
    with path.open("w") as f:
        f.write("qid,docid,rank,score,label\n")
        for i in range(400_000):
            f.write(f"q{i // 1000},doc{rng.randrange(10**7)},{i % 1000},{rng.random():.6f},"
                    f"{'rel' if i % 3 else 'non'}\n")
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                          timeout=300, check=True)
    rows, growth_mib = map(int, proc.stdout.split())
    # 13 MB of CSV: about 80 MiB through pyarrow, about 350 MiB as a dict per row
    assert rows == 400_000 and growth_mib < 200, growth_mib


HM = """
kind = {Kind: good deep-array deep-object fifo dev-zero binary zeros}
hostile = "HOSTILE"
task make(kind=$, hostile=$) -> (out="m.json"):
  case "$kind" in
    fifo) mkfifo $out ;;
    dev-zero) ln -s /dev/zero $out ;;
    *) cp "$hostile/$kind/m.json" $out ;;
  esac
"""


def test_results_over_hostile_outputs_through_the_cli(tmp_path):
    sources = tmp_path / "sources"
    for kind in ["good", *KINDS]:
        if kind not in ("fifo", "dev-zero"):
            _hostile(sources / kind, kind)
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.hm").write_text(textwrap.dedent(HM).lstrip().replace("HOSTILE", str(sources)))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=project, capture_output=True,
                              text=True, timeout=300)

    run = cli("run", "make[Kind: *]", "-y")
    assert run.returncode == 0, run.stderr
    results = cli("results", "make[Kind: *]", "--to", "table.json")
    assert results.returncode == 0, results.stderr
    assert "Traceback" not in results.stderr
    rows = {row["Kind"]: row for row in json.loads((project / "table.json").read_text())}
    assert rows["good"] == {"Kind": "good", "status": "COMPLETE", "score": 0.5, "error": None}
    for kind, reason in KINDS.items():
        assert rows[kind]["status"] == "UNREADABLE" and reason in rows[kind]["error"], rows[kind]
    shown = cli("results", "make[Kind: *]", "--format", "csv")
    assert shown.returncode == 0 and "a FIFO, not a regular file" in shown.stdout


def test_a_job_json_that_is_a_fifo_or_too_deep_gives_no_meta(tmp_path):
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "deep.json").write_text("[" * DEEP + "]" * DEEP)
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "good.json").write_text('{"attempt": 2}')
    for name in ("fifo.json", "deep.json", "list.json", "missing.json"):
        assert _bounded(lambda name=name: readers.read_job_meta(tmp_path / name)) == {}, name
    assert readers.read_job_meta(tmp_path / "good.json") == {"attempt": 2}
