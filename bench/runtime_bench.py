"""Benchmark of the Python evaluation runtime: throughput against a hand-written Ray actor pool; peak memory.

Run: `python bench/runtime_bench.py [--rows N] [--memory-rows A,B] [--workers W] [--repeat R]`.

Throughput: N rows (default 100,000) through a cheap component (`query.upper()`) and a cheap metric (exact
match against the dataset's answer), ending in a Parquet file, with `@runtime`; then the same work done by a
hand-written pool of Ray actors that receive batches, compute output and score, and return lists the driver
turns into one Arrow table (with the runtime's columns) and one Parquet file. Every measurement runs in a
fresh process with its own Ray, started (with its idle worker processes) before the timed region; both sides
create their actors inside it.
Runtime and baseline runs alternate; the best of each is kept, with every run's seconds, the median of the
paired ratios, and the median CPU seconds (user and system, summed over the run's processes: steadier than
wall time on a shared machine), also split by process kind (the driver, each actor class, `other` for Ray's
own and idle processes) in milliseconds per 1,000 rows, and the processes Ray started during the timed
region with their CPU (Ray keeps one idle process per CPU: the default mode's third actor gets a fresh one,
whose start-up, 0.15-0.25 s of CPU on the 2-vCPU VM, counts in its kind). The runtime runs
`--runtime-workers` workers plus its evaluator actor (`--runtime-evaluators 0`: workers that score their own
batches, as many actor processes as the baseline). Target: the runtime at 80% or more of the baseline's rows/second.

`--metric-us U` makes every score (on both sides) spend U microseconds of CPU, for a metric that does work.

Memory: the runtime over A and B rows (default 100,000 and 1,000,000) from a generator, each in a fresh
process; reports the driver's peak RSS and the peak RSS summed over the driver and every Ray process it
started (sampled). Target: the larger run within 1.2x of the smaller.
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
import threading
import time
from pathlib import Path
from typing import Any

from hypermetric.runtime import Dataset, Metric, Progress, component, runtime

METRIC_SECONDS = 0.0  # extra CPU work per score (--metric-us), the same on both sides


def burn(seconds: float) -> None:
    """Keeps the CPU busy for `seconds`, standing in for a metric that does real work."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class ExactMatch(Metric):
    def score(self, output: str, expected: str) -> float:
        if METRIC_SECONDS:
            burn(METRIC_SECONDS)
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


def run_runtime(n: int, workers: int, batch_size: int, out: Path,
                evaluators: int | None = None) -> tuple[float, float]:
    """One runtime run over n rows: its seconds (start-up, run and reconciliation included) and its
    steady rows/second (from the first batch an evaluator acknowledged to the last)."""
    acknowledged: list[tuple[float, int]] = []

    def progress(snapshot: Progress) -> None:
        rows_so_far = snapshot.acknowledged_rows
        if rows_so_far and (not acknowledged or acknowledged[-1][1] != rows_so_far):
            acknowledged.append((time.time(), rows_so_far))

    start = time.perf_counter()
    run = runtime(workers=workers, evaluators=evaluators, batch_size=batch_size, output_dir=out, quiet=True,
                  dataset=Dataset.from_generator(rows(n)), resume=False, progress=progress)(main_fn)
    result = run(query=Dataset.query)
    elapsed = time.perf_counter() - start
    assert result.rows == n and result.metrics["shout.ExactMatch"].count == n, result
    (first, first_rows), (last, _) = acknowledged[0], acknowledged[-1]
    return elapsed, (n - first_rows) / (last - first)


def run_baseline(n: int, workers: int, batch_size: int, out: Path) -> tuple[float, float]:
    """The same work on a plain Ray actor pool (batches in, lists out, one table at the end): its seconds and
    its steady rows/second (from the first batch finished to the last)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    @ray.remote
    class Scorer:
        def run(self, start: int, queries: list[str],
                answers: list[str]) -> tuple[int, list[str], list[float], float]:
            outputs = [q.upper() for q in queries]
            scores = []
            for output, answer in zip(outputs, answers):
                if METRIC_SECONDS:
                    burn(METRIC_SECONDS)
                scores.append(float(output == answer))
            return start, outputs, scores, time.time()

    started = time.perf_counter()
    actors = [Scorer.remote() for _ in range(workers)]
    pending, results, queries, source = [], [], [], rows(n)()
    for start in range(0, n, batch_size):
        batch = [next(source) for _ in range(min(batch_size, n - start))]
        if len(pending) >= 4 * workers:  # the same bound on in-flight batches, so memory stays flat
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done))
        actor = actors[(start // batch_size) % workers]
        queries.append([r["query"] for r in batch])
        pending.append(actor.run.remote(start, queries[-1], [r["answer"] for r in batch]))
    results.extend(ray.get(pending))
    results.sort()
    outputs = pa.array([o for _, batch_outputs, _, _ in results for o in batch_outputs], pa.string())
    nothing = pa.nulls(n, pa.string())
    # The same columns as the runtime's table: row id, input, output, component output, metric, status.
    table = pa.table({"row_id": pa.array(range(n), pa.int64()),
                      "input.query": pa.array([q for batch in queries for q in batch], pa.string()),
                      "output": outputs, "shout.output": outputs,
                      "shout.ExactMatch": pa.array([s for _, _, scores, _ in results for s in scores], pa.float64()),
                      "error": nothing, "eval_errors": nothing, "attempts": pa.array([1] * n, pa.int64())})
    pq.write_table(table, out / "baseline.parquet")
    elapsed = time.perf_counter() - started
    for actor in actors:
        ray.kill(actor)
    finished = sorted(result[3] for result in results)
    return elapsed, (n - batch_size) / (finished[-1] - finished[0])


def _child(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Runs one measurement in a fresh process with its own Ray, and returns what it printed."""
    command = [sys.executable, __file__, "--child", kind, str(n), "--workers", str(args.workers),
               "--runtime-workers", str(args.runtime_workers or args.workers),
               "--batch-size", str(args.batch_size), "--metric-us", str(args.metric_us)]
    if args.runtime_evaluators is not None:
        command += ["--runtime-evaluators", str(args.runtime_evaluators)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def throughput(args: argparse.Namespace) -> dict[str, float]:
    """Alternates runtime and baseline runs, each in a fresh process; keeps the best of each."""
    ours, theirs, ours_steady, theirs_steady, ratios = [], [], [], [], []
    ours_cpu, theirs_cpu = [], []
    ours_kinds: list[dict[str, float]] = []
    theirs_kinds: list[dict[str, float]] = []
    ours_started: list[dict[str, float]] = []
    theirs_started: list[dict[str, float]] = []
    for attempt in range(args.repeat):
        mine = _child("runtime", args.rows, args)
        base = _child("baseline", args.rows, args)
        ours_cpu.append(mine["cpu_seconds"])
        theirs_cpu.append(base["cpu_seconds"])
        ours_kinds.append(mine["cpu_seconds_by_kind"])
        ours_started.append(mine["started_during_run"])
        theirs_started.append(base["started_during_run"])
        theirs_kinds.append(base["cpu_seconds_by_kind"])
        ours.append(mine["seconds"])
        theirs.append(base["seconds"])
        ours_steady.append(mine["steady_rows_per_s"])
        theirs_steady.append(base["steady_rows_per_s"])
        ratios.append(base["seconds"] / mine["seconds"])
        print(f"run {attempt + 1}: runtime {args.rows / mine['seconds']:,.0f} rows/s "
              f"(steady {mine['steady_rows_per_s']:,.0f}), "
              f"baseline {args.rows / base['seconds']:,.0f} rows/s "
              f"(steady {base['steady_rows_per_s']:,.0f}); CPU s (all processes) runtime "
              f"{mine['cpu_seconds']:.2f}, baseline {base['cpu_seconds']:.2f}", flush=True)
    return {"rows": args.rows, "runtime_rows_per_s": args.rows / min(ours),
            "baseline_rows_per_s": args.rows / min(theirs), "ratio": min(theirs) / min(ours),
            "median_paired_ratio": statistics.median(ratios),
            "runtime_steady_rows_per_s": max(ours_steady), "baseline_steady_rows_per_s": max(theirs_steady),
            "steady_ratio": max(ours_steady) / max(theirs_steady),
            "runtime_cpu_seconds_median": statistics.median(ours_cpu),
            "baseline_cpu_seconds_median": statistics.median(theirs_cpu),
            "runtime_cpu_ms_per_1000_rows_by_kind": _median_by_kind(ours_kinds, args.rows),
            "baseline_cpu_ms_per_1000_rows_by_kind": _median_by_kind(theirs_kinds, args.rows),
            # Processes Ray started during the timed region (beyond the idle ones it had), and their CPU.
            "runtime_started_during_run": ours_started, "baseline_started_during_run": theirs_started,
            "paired_ratios": ratios,
            "runtime_seconds": ours, "baseline_seconds": theirs}


def _median_by_kind(runs: list[dict[str, float]], rows: int) -> dict[str, float]:
    """Each process kind's median CPU over the runs, in milliseconds per 1,000 rows (start-up included; a
    kind missing from a run counts 0 there)."""
    kinds = sorted({kind for run in runs for kind in run})
    return {kind: round(statistics.median(run.get(kind, 0.0) for run in runs) * 1e6 / rows, 3) for kind in kinds}


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


def _process_kind(pid: int, root: int) -> str | None:
    """What a process is: `driver` (the measuring process), the Ray actor class it runs (Ray titles an
    actor's process `ray::Class` or `ray::Class.method`), or None while it runs none (an idle worker)."""
    if pid == root:
        return "driver"
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return None
    if not title.startswith("ray::") or title.startswith("ray::IDLE"):
        return None
    return title.split()[0].split(".")[0]


def _descendants_cpu_s(root: int) -> dict[int, float]:
    """CPU seconds (user and system) used so far by `root` and each of its descendants, by process id."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        found[pid] = cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return found


class CpuMeter:
    """CPU seconds used by this process and its descendants (Ray's) between `start` and `stop`, sampled every
    quarter second so that processes stopped meanwhile count up to their last sample."""

    def __init__(self) -> None:
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._kinds: dict[int, str] = {}  # the last kind each process was seen as (see `_process_kind`)
        self._before: set[int] = set()  # the processes there at `start`
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample(self) -> None:
        for pid, seconds in _descendants_cpu_s(os.getpid()).items():
            self._first.setdefault(pid, 0.0 if self._last else seconds)
            self._last[pid] = seconds
            kind = _process_kind(pid, os.getpid())
            if kind is not None:
                self._kinds[pid] = kind
        self._first.setdefault(os.getpid(), 0.0)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def start(self) -> CpuMeter:
        self._sample()
        self._first = dict(self._last)
        self._before = set(self._last)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(seconds - self._first.get(pid, 0.0) for pid, seconds in self._last.items())

    def started_during(self) -> dict[str, float]:
        """The processes started after `start` (Ray starts one for each actor beyond its idle ones): how many,
        and their CPU seconds (a fresh Ray worker's own start-up included), also counted in `by_kind`."""
        fresh = [pid for pid in self._last if pid not in self._before]
        return {"processes": len(fresh),
                "cpu_seconds": round(sum(self._last[pid] - self._first.get(pid, 0.0) for pid in fresh), 3)}

    def by_kind(self) -> dict[str, float]:
        """The CPU seconds of `stop`, split by process kind (`other`: Ray's own and idle processes)."""
        kinds: dict[str, float] = {}
        for pid, seconds in self._last.items():
            kind = self._kinds.get(pid, "other")
            kinds[kind] = kinds.get(kind, 0.0) + seconds - self._first.get(pid, 0.0)
        return {kind: round(seconds, 3) for kind, seconds in sorted(kinds.items())}


def child(kind: str, n: int, args: argparse.Namespace) -> None:
    """In a fresh process: start Ray, load what both sides use, let Ray's idle workers start, then time one
    run; prints the seconds (and, for `memory`, the peak resident memory) as JSON."""
    import pyarrow.parquet  # noqa: F401 - imported before timing, for both sides
    import ray

    global METRIC_SECONDS
    METRIC_SECONDS = args.metric_us / 1e6

    ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    time.sleep(2)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peak[0] = max(peak[0], _descendants_rss_kb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    if kind == "memory":
        sampler.start()
    meter = CpuMeter().start()
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "baseline":
            seconds, steady = run_baseline(n, args.workers, args.batch_size, Path(tmp))
        else:
            workers = args.runtime_workers or args.workers
            out = Path(tmp) / "out"
            seconds, steady = run_runtime(n, workers, args.batch_size, out, args.runtime_evaluators)
    stop.set()
    cpu_seconds = meter.stop()
    driver_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": n, "seconds": seconds, "steady_rows_per_s": steady, "cpu_seconds": cpu_seconds,
                      "cpu_seconds_by_kind": meter.by_kind(), "started_during_run": meter.started_during(),
                      "driver_peak_mb": driver_kb / 1024, "all_processes_peak_mb": peak[0] / 1024}))


def memory(args: argparse.Namespace) -> list[dict[str, float]]:
    reports = []
    for n in args.memory_rows:
        report = _child("memory", n, args)
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
    parser.add_argument("--runtime-workers", type=int, help="runtime workers (default: --workers); "
                        "the runtime adds one evaluator actor per four workers")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--runtime-evaluators", type=int,
                        help="runtime evaluator actors (default: automatic; 0: workers score their own batches)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--metric-us", type=float, default=0.0,
                        help="CPU microseconds each metric score spends (default 0: the cheapest metric)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args)
        return
    report: dict[str, Any] = {}
    if not args.skip_throughput:
        report["throughput"] = result = throughput(args)
        print(f"throughput over {args.rows:,} rows (best of {args.repeat}): runtime "
              f"{result['runtime_rows_per_s']:,.0f} rows/s, "
              f"baseline {result['baseline_rows_per_s']:,.0f} rows/s, "
              f"ratio {result['ratio']:.2f}, median paired ratio {result['median_paired_ratio']:.2f} "
              "(target >= 0.80)")
        started = [run["cpu_seconds"] for run in result["runtime_started_during_run"]]
        print(f"processes started during the run: runtime "
              f"{[run['processes'] for run in result['runtime_started_during_run']]} "
              f"(median CPU {statistics.median(started):.2f} s, in the kinds below), baseline "
              f"{[run['processes'] for run in result['baseline_started_during_run']]}")
        print(f"CPU ms per 1,000 rows by process kind (medians): runtime "
              f"{result['runtime_cpu_ms_per_1000_rows_by_kind']}, baseline "
              f"{result['baseline_cpu_ms_per_1000_rows_by_kind']}")
        print(f"steady state (start-up and final table excluded): runtime "
              f"{result['runtime_steady_rows_per_s']:,.0f} rows/s, baseline "
              f"{result['baseline_steady_rows_per_s']:,.0f} rows/s, ratio {result['steady_ratio']:.2f}")
    if not args.skip_memory:
        report["memory"] = runs = memory(args)
        if len(runs) >= 2:
            driver = runs[-1]["driver_peak_mb"] / runs[0]["driver_peak_mb"]
            total = runs[-1]["all_processes_peak_mb"] / runs[0]["all_processes_peak_mb"]
            print(f"peak memory {runs[-1]['rows']:,} vs {runs[0]['rows']:,} rows: driver x{driver:.2f}, "
                  f"all processes x{total:.2f} (target <= 1.2)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
