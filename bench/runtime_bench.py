"""Benchmark of the Python evaluation runtime: throughput against a hand-written Ray actor pool; peak memory.

Run: `python bench/runtime_bench.py [--rows N] [--memory-rows A,B] [--workers W] [--repeat R]`.

Throughput: N rows (default 100,000) through a cheap component (`query.upper()`) and a cheap metric (exact
match against the dataset's answer), ending in a Parquet file, with `@runtime`; then the same work done by a
hand-written pool of Ray actors that receive batches, compute output and score, and return lists the driver
turns into one Arrow table and Parquet file. Both create their actors inside the timed region; Ray itself is
started once before. The runtime runs `--runtime-workers` workers plus its evaluator actor, so
`--runtime-workers 1` compares equal numbers of actor processes. Target: the runtime at 70% or more of the
baseline's rows/second.

Memory: the runtime over A and B rows (default 100,000 and 1,000,000) from a generator, each in a fresh
process with its own Ray; reports the driver's peak RSS and the peak RSS summed over the driver and every Ray
process it started (sampled). Target: the larger run within 1.5x of the smaller.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from hypermetric.runtime import Dataset, Metric, component, runtime


class ExactMatch(Metric):
    def score(self, output: str, expected: str) -> float:
        return float(output == expected)


@component(evals=[ExactMatch().use(output=component.output(), expected=Dataset.answer)])
def shout(query: str) -> str:
    return query.upper()


def main_fn(query: str) -> str:
    return shout(query)


def rows(n: int) -> Any:
    def generate() -> Any:
        for i in range(n):
            yield {"query": f"query {i}", "answer": f"QUERY {i}" if i % 3 else "no"}

    return generate


def run_runtime(n: int, workers: int, batch_size: int, out: Path) -> float:
    """Seconds for one runtime run over n rows (actor start-up, run, reconciliation included)."""
    start = time.perf_counter()
    result = runtime(workers=workers, batch_size=batch_size, dataset=Dataset.from_generator(rows(n)),
                     output_dir=out, quiet=True, resume=False)(main_fn)(query=Dataset.query)
    elapsed = time.perf_counter() - start
    assert result.rows == n and result.metrics["shout.ExactMatch"].count == n, result
    return elapsed


def run_baseline(n: int, workers: int, batch_size: int, out: Path) -> float:
    """Seconds for the same work on a plain Ray actor pool: batches in, lists out, one table at the end."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    @ray.remote
    class Scorer:
        def run(self, start: int, queries: list[str],
                answers: list[str]) -> tuple[int, list[str], list[float]]:
            outputs = [q.upper() for q in queries]
            return start, outputs, [float(o == a) for o, a in zip(outputs, answers)]

    started = time.perf_counter()
    actors = [Scorer.remote() for _ in range(workers)]
    pending, results, source = [], [], rows(n)()
    for start in range(0, n, batch_size):
        batch = [next(source) for _ in range(min(batch_size, n - start))]
        if len(pending) >= 4 * workers:  # the same bound on in-flight batches, so memory stays flat
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done))
        actor = actors[(start // batch_size) % workers]
        pending.append(actor.run.remote(start, [r["query"] for r in batch], [r["answer"] for r in batch]))
    results.extend(ray.get(pending))
    results.sort()
    table = pa.table({"row_id": pa.array(range(n), pa.int64()),
                      "output": [o for _, outputs, _ in results for o in outputs],
                      "score": pa.array([s for _, _, scores in results for s in scores], pa.float64())})
    pq.write_table(table, out / "baseline.parquet")
    elapsed = time.perf_counter() - started
    for actor in actors:
        ray.kill(actor)
    return elapsed


def throughput(args: argparse.Namespace) -> dict[str, float]:
    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    ours, baseline = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            mine = run_runtime(args.rows, args.runtime_workers or args.workers, args.batch_size,
                               Path(tmp) / f"run{attempt}")
            theirs = run_baseline(args.rows, args.workers, args.batch_size, Path(tmp))
            print(f"run {attempt + 1}: runtime {args.rows / mine:,.0f} rows/s, "
                  f"baseline {args.rows / theirs:,.0f} rows/s", flush=True)
            ours, baseline = min(ours, mine), min(baseline, theirs)
    ray.shutdown()
    return {"rows": args.rows, "runtime_rows_per_s": args.rows / ours,
            "baseline_rows_per_s": args.rows / baseline, "ratio": baseline / ours}


def _descendants_rss_kb(root: int) -> int:
    """Resident memory of `root` and all its descendant processes, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        children.setdefault(int(fields["PPid"]), []).append(int(entry))
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def memory_child(n: int, workers: int, batch_size: int) -> None:
    """In a fresh process: one runtime run over n rows; prints peak RSS as JSON."""
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peak[0] = max(peak[0], _descendants_rss_kb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = run_runtime(n, workers, batch_size, Path(tmp) / "out")
    stop.set()
    sampler.join()
    driver_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": n, "seconds": seconds, "driver_peak_mb": driver_kb / 1024,
                      "all_processes_peak_mb": peak[0] / 1024}))


def memory(args: argparse.Namespace) -> list[dict[str, float]]:
    reports = []
    for n in args.memory_rows:
        command = [sys.executable, __file__, "--memory-child", str(n), "--workers", str(args.workers),
                   "--batch-size", str(args.batch_size)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        report = json.loads(out.strip().splitlines()[-1])
        print(f"{n:>9,} rows: {report['seconds']:.1f} s, driver peak {report['driver_peak_mb']:.0f} MB, "
              f"all processes peak {report['all_processes_peak_mb']:.0f} MB", flush=True)
        reports.append(report)
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the throughput comparison")
    parser.add_argument("--memory-rows", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100_000, 1_000_000], help="comma-separated row counts for the memory runs")
    parser.add_argument("--workers", type=int, default=2, help="CPUs for Ray, and baseline actors")
    parser.add_argument("--runtime-workers", type=int, help="runtime worker actors (default: --workers); "
                        "the runtime adds one evaluator actor per four workers")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.workers, args.batch_size)
        return
    report: dict[str, Any] = {}
    if not args.skip_throughput:
        report["throughput"] = result = throughput(args)
        print(f"throughput over {args.rows:,} rows: runtime {result['runtime_rows_per_s']:,.0f} rows/s, "
              f"baseline {result['baseline_rows_per_s']:,.0f} rows/s, "
              f"ratio {result['ratio']:.2f} (target >= 0.70)")
    if not args.skip_memory:
        report["memory"] = runs = memory(args)
        if len(runs) >= 2:
            driver = runs[-1]["driver_peak_mb"] / runs[0]["driver_peak_mb"]
            total = runs[-1]["all_processes_peak_mb"] / runs[0]["all_processes_peak_mb"]
            print(f"peak memory {runs[-1]['rows']:,} vs {runs[0]['rows']:,} rows: driver x{driver:.2f}, "
                  f"all processes x{total:.2f} (target <= 1.5)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
