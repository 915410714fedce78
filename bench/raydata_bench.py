"""The Python runtime against a hand-written Ray actor pool and Ray Data, on one workload: rows/second and the
driver's peak memory at two sizes.

Run: `python bench/raydata_bench.py [--rows 100000,1000000] [--repeat R] [--workers W] [--json FILE]`
(Ray Data needs pandas: `pip install -e '.[bench]'`).

The workload is runtime_bench's: N rows (`query i`, and an answer that matches its upper-cased query two times
in three), a cheap component (`query.upper()`) and a cheap metric (exact match), ending in Parquet with the
runtime's columns (row id, input, output, component output, metric, error, eval_errors, attempts). Four ways:
- `default`: `@runtime` with its default evaluator actors (one per four workers: here workers + 1 processes);
- `evaluators0`: `@runtime(evaluators=0)`, workers that score their own batches;
- `pool`: runtime_bench's hand-written pool (actors score batches and return lists; the driver writes one
  Parquet file);
- `raydata`: `ray.data.range(N)` turned into the same rows by a mapping function, then `map_batches` with a
  callable class on an actor pool (`ActorPoolStrategy(size=W)`, half a CPU each, `batch_size` as the others), then `write_parquet` to a
  folder (Ray Data's own output: one file per block, not one file as the others write).
Every measurement is a fresh process with its own Ray (started, with its idle workers, before the timed region);
the kinds alternate within each repetition, and the report gives each kind's median seconds, rows/second and
driver peak RSS (getrusage), and each one's rows/second relative to the pool's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import runtime_bench as rb

KINDS = ("default", "evaluators0", "pool", "raydata")


def make_rows(batch: dict[str, Any]) -> dict[str, Any]:
    """runtime_bench's rows, made from their ids (Ray Data's source)."""
    ids = batch["id"].tolist()
    return {"row_id": ids, "query": [f"query {i}" for i in ids],
            "answer": [f"QUERY {i}" if i % 3 else "no" for i in ids]}


class Scorer:
    """The component and the metric over a batch, returning the runtime's columns."""

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        queries, answers = batch["query"].to_pylist(), batch["answer"].to_pylist()
        outputs = [q.upper() for q in queries]
        scores = [float(output == answer) for output, answer in zip(outputs, answers)]
        n, nothing = len(outputs), pa.nulls(len(outputs), pa.string())
        out = pa.array(outputs, pa.string())
        return pa.table({"row_id": batch["row_id"], "input.query": batch["query"], "output": out,
                         "shout.output": out, "shout.ExactMatch": pa.array(scores, pa.float64()),
                         "error": nothing, "eval_errors": nothing, "attempts": pa.array([1] * n, pa.int64())})


def run_raydata(n: int, workers: int, batch_size: int, out: Path) -> float:
    import ray

    started = time.perf_counter()
    dataset = ray.data.range(n).map_batches(make_rows, batch_size=batch_size, batch_format="numpy")
    # Each actor holds half a CPU: with a whole one each, the actors hold every CPU of the cluster and the
    # read and write tasks wait forever (the other kinds' actors hold none while they run).
    scored = dataset.map_batches(Scorer, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=0.5,
                                 batch_size=batch_size, batch_format="pyarrow")
    scored.write_parquet(str(out / "raydata"))
    return time.perf_counter() - started


def child(kind: str, n: int, args: argparse.Namespace) -> None:
    """In a fresh process: start Ray, let its idle workers start, time one run, print seconds and peak RSS."""
    import pyarrow.parquet  # noqa: F401 - imported before timing, for every kind
    import ray
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(rb)  # its functions travel by value, as a script's would
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    if kind == "raydata":
        import ray.data  # noqa: F401 - imported before timing, as the others' modules are
        ray.data.DataContext.get_current().enable_progress_bars = False
    time.sleep(2)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "pool":
            seconds, _ = rb.run_baseline(n, args.workers, args.batch_size, Path(tmp))
        elif kind == "raydata":
            seconds = run_raydata(n, args.workers, args.batch_size, Path(tmp))
        else:
            evaluators = 0 if kind == "evaluators0" else None
            seconds, _ = rb.run_runtime(n, args.workers, args.batch_size, Path(tmp) / "out", evaluators)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "rows": n, "seconds": seconds, "driver_peak_mb": peak}))


def _measure(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, str(n), "--workers", str(args.workers),
               "--batch-size", str(args.batch_size)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="CPUs for Ray, and workers of every kind")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=list(KINDS))
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args)
        return
    report: dict[str, Any] = {"workers": args.workers, "batch_size": args.batch_size, "sizes": {}}
    for n in args.rows:
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in args.kinds}
        for attempt in range(args.repeat):
            for kind in args.kinds:
                runs[kind].append(_measure(kind, n, args))
                print(f"{n:>9,} rows, run {attempt + 1}, {kind:>11}: {runs[kind][-1]['seconds']:6.2f} s, "
                      f"driver peak {runs[kind][-1]['driver_peak_mb']:4.0f} MB", flush=True)
        medians = {kind: {"seconds": statistics.median(r["seconds"] for r in rs),
                          "rows_per_s": n / statistics.median(r["seconds"] for r in rs),
                          "driver_peak_mb": statistics.median(r["driver_peak_mb"] for r in rs),
                          "runs": rs} for kind, rs in runs.items()}
        if "pool" in medians:
            for entry in medians.values():
                entry["vs_pool"] = entry["rows_per_s"] / medians["pool"]["rows_per_s"]
        report["sizes"][str(n)] = medians
    _print_table(report, args.rows)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def _print_table(report: dict[str, Any], sizes: list[int]) -> None:
    print("| kind | " + " | ".join(f"{n:,} rows/s (x pool) | driver MB" for n in sizes) + " |")
    for kind in report["sizes"][str(sizes[0])]:
        cells = []
        for n in sizes:
            entry = report["sizes"][str(n)][kind]
            cells.append(f"{entry['rows_per_s']:,.0f} ({entry.get('vs_pool', float('nan')):.2f}) | "
                         f"{entry['driver_peak_mb']:.0f}")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    if len(sizes) >= 2:
        for kind in report["sizes"][str(sizes[0])]:
            small, large = (report["sizes"][str(n)][kind]["driver_peak_mb"] for n in (sizes[0], sizes[-1]))
            print(f"driver peak memory {kind}: {sizes[-1]:,} vs {sizes[0]:,} rows x{large / small:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main()
