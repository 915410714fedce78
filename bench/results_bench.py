"""Benchmark of the results hot path: 10,000 job directories with small JSON outputs, to rows and a table.

Run: `python bench/results_bench.py [--cases N] [--repeat R]`. Prints each run's total, then the best time
of collect_rows, rows_to_table and their sum (target: under 2 s for 10,000 cases).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from hypermetric.results.arrow import rows_to_table
from hypermetric.results.collect import CaseResult, collect_rows


def build(root: Path, n_cases: int) -> list[CaseResult]:
    """`n_cases` job directories `evaluate/Dataset=d&Model=m/metrics.json` and their cases."""
    rng = random.Random(0)
    n_datasets = 100
    cases = []
    for i in range(n_cases):
        case = {"Dataset": f"d{i % n_datasets}", "Model": f"m{i // n_datasets}"}
        job = root / "evaluate" / f"Dataset={case['Dataset']}&Model={case['Model']}"
        job.mkdir(parents=True)
        metrics = {"ndcg_cut_10": rng.random(), "map": rng.random(), "num_q": rng.randint(10, 500),
                   "recall": {"100": rng.random(), "1000": rng.random()}, "run": case["Model"]}
        (job / "metrics.json").write_text(json.dumps(metrics))
        cases.append(CaseResult(case, path=str(job / "metrics.json")))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        cases = build(Path(tmp), args.cases)
        print(f"built {args.cases} case directories in {time.perf_counter() - start:.2f} s")
        best = (float("inf"), float("inf"))
        for attempt in range(args.repeat):
            t0 = time.perf_counter()
            rows = collect_rows(cases)
            t1 = time.perf_counter()
            table = rows_to_table(rows, ["Dataset", "Model"])
            t2 = time.perf_counter()
            best = min(best, (t1 - t0, t2 - t1), key=sum)
            print(f"run {attempt + 1}: {t2 - t0:.3f} s")
        assert table.num_rows == args.cases
        collect_s, table_s = best
        print(f"collect_rows {collect_s:.3f} s, rows_to_table {table_s:.3f} s, "
              f"total {collect_s + table_s:.3f} s "
              f"({table.num_rows} rows x {table.num_columns} columns)")


if __name__ == "__main__":
    main()
