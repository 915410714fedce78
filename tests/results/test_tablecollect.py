"""`table.collect`: a reduction folder of symlinked entries to one Parquet file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hypermetric.cli.app import main as cli_main
from hypermetric.results.manifest import write_manifest
from hypermetric.results.tablecollect import collect_folder


def main(argv: list[str]) -> int:
    """What the stdlib's `table.collect` runs: `hypermetric table-collect ARGS`."""
    return cli_main(["table-collect", *argv])


TREC = "map\tq1\t0.5\nmap\tq2\t0.25\nmap\tall\t0.375\n"


def make_reduction(root: Path, *, manifest: bool = True) -> Path:
    """Jobs under `root/out/eval/<case>/m` and a reduction folder `root/job/runs` of relative symlinks."""
    jobs = {
        "default": ({"Data": "nq", "Model": "bm25"}, {"ndcg": 0.5, "extra": {"n": 3}}),
        "Model=dense": ({"Data": "nq", "Model": "dense"}, {"ndcg": 0.75}),
        "Data=msm": ({"Data": "msm", "Model": "bm25"}, None),
        "Data=msm&Model=dense": ({"Data": "msm", "Model": "dense"}, "{broken"),
    }
    folder = root / "job" / "runs"
    folder.mkdir(parents=True)
    entries = []
    for name, (case, content) in jobs.items():
        job = root / "out" / "eval" / name
        job.mkdir(parents=True)
        if content is not None:
            (job / "m").write_text(content if isinstance(content, str) else json.dumps(content))
        os.symlink(os.path.relpath(job / "m", folder), folder / name)
        entries.append((name, case, os.path.relpath(job / "m", folder)))
    if manifest:
        write_manifest(folder, entries, ["Data", "Model"])
    return folder


def test_collect_folder_with_manifest(tmp_path: Path) -> None:
    table = collect_folder(make_reduction(tmp_path))
    assert table.column_names == ["Data", "Model", "status", "ndcg", "extra.n", "error"]
    rows = [{k: v for k, v in row.items() if k != "error"} for row in table.to_pylist()]
    assert rows == [
        {"Data": "nq", "Model": "bm25", "status": "COMPLETE", "ndcg": 0.5, "extra.n": 3},
        {"Data": "nq", "Model": "dense", "status": "COMPLETE", "ndcg": 0.75, "extra.n": None},
        {"Data": "msm", "Model": "bm25", "status": "MISSING", "ndcg": None, "extra.n": None},
        {"Data": "msm", "Model": "dense", "status": "UNREADABLE", "ndcg": None, "extra.n": None},
    ]


def test_main_writes_parquet(tmp_path: Path) -> None:
    folder = make_reduction(tmp_path)
    assert main(["--inputs", str(folder), "--output", str(tmp_path / "job" / "table")]) == 0
    table = pq.read_table(tmp_path / "job" / "table")
    assert table.num_rows == 4 and table.column("ndcg").to_pylist() == [0.5, 0.75, None, None]


def test_fallback_to_entry_names(tmp_path: Path) -> None:
    table = collect_folder(make_reduction(tmp_path, manifest=False))
    assert table.select(["Data", "Model", "status", "ndcg"]).to_pylist() == [
        {"Data": "msm", "Model": None, "status": "MISSING", "ndcg": None},
        {"Data": "msm", "Model": "dense", "status": "UNREADABLE", "ndcg": None},
        {"Data": None, "Model": "dense", "status": "COMPLETE", "ndcg": 0.75},
        {"Data": None, "Model": None, "status": "COMPLETE", "ndcg": 0.5},
    ]


def test_per_query_flag(tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    (tmp_path / "eval.txt").write_text(TREC)
    os.symlink(tmp_path / "eval.txt", folder / "Model=bm25")
    main(["--inputs", str(folder), "--output", str(tmp_path / "all.parquet")])
    main(["--inputs", str(folder), "--output", str(tmp_path / "q.parquet"), "--per-query"])
    assert pq.read_table(tmp_path / "all.parquet").to_pylist() == [
        {"Model": "bm25", "status": "COMPLETE", "map": 0.375}
    ]
    assert pq.read_table(tmp_path / "q.parquet").column("id").to_pylist() == ["q1", "q2", "all"]


def test_main_reports_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inputs", str(tmp_path / "nope"), "--output", str(tmp_path / "t.parquet")]) == 2
    assert "error: cannot read results from" in capsys.readouterr().err
    assert not (tmp_path / "t.parquet").exists()


def test_runs_as_a_module(tmp_path: Path) -> None:
    folder = make_reduction(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [
        sys.executable,
        "-m",
        "hypermetric",
        "table-collect",
        "--inputs",
        str(folder),
        "--output",
        str(tmp_path / "t.parquet"),
    ]
    subprocess.run(command, check=True, env=env, cwd=tmp_path)
    assert pq.read_table(tmp_path / "t.parquet").num_rows == 4
    usage = subprocess.run(command[:4], check=False, env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "--inputs" in usage.stderr
