"""Benchmark of `hypermetric.flow.DAG` against the same work hand-written with Ray actors and `ray.wait`.

Run: `python bench/flow_bench.py [--items N] [--batch-size B] [--max-inflight M] [--repeat R] [--json FILE]`.

Work: N small integers (default 1,000,000) in batches of B (default 1,000) through three nodes in a chain,
source -> Increment -> Double -> Total -> sink (Total returns the batch's sum, one int per batch). The DAG side
builds that graph with `DAG.add_source/add/add_sink`, starts it and streams the data; the baseline creates one
Ray actor per node (holding the same `Task` object) and, for each batch, chains the three calls by object
reference, keeping at most M batches in flight with `ray.wait`, as one would write it by hand. Both sides
create their actors inside the timed region; Ray itself is started before it, once, and its idle worker
processes are warm. Runs alternate (DAG, baseline, DAG, ...); both sides' sums are checked against the
expected total. Target: the DAG within 1.5x of the baseline's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hypermetric.flow import DAG, Task


class Increment(Task):
    def do(self, batch: list[int]) -> list[int]:
        return [x + 1 for x in batch]


class Double(Task):
    def do(self, batch: list[int]) -> list[int]:
        return [2 * x for x in batch]


class Total(Task):
    def do(self, batch: list[int]) -> int:
        return sum(batch)


def run_dag(data: list[int], batch_size: int, max_inflight: int) -> tuple[float, int]:
    """The DAG's seconds (actors started, data streamed, actors stopped) and the sum of its sink's payloads."""
    started = time.perf_counter()
    dag = DAG()
    source, queue = dag.add_source()
    total = dag.add(Total(), inputs=dag.add(Double(), inputs=dag.add(Increment(), inputs=source)))
    sink = dag.add_sink(total)
    dag.start()
    result = sum(message.payload for _, message in dag.stream(
        data, source_queues=[queue], sink_queues=[sink], batch_size=batch_size, max_inflight=max_inflight))
    dag.stop()
    return time.perf_counter() - started, result


def run_baseline(data: list[int], batch_size: int, max_inflight: int) -> tuple[float, int]:
    """The same chain on three hand-made Ray actors, bounded in flight with `ray.wait`."""
    import ray

    @ray.remote
    class Node:
        def __init__(self, task: Task) -> None:
            self.task = task

        def do(self, batch: Any) -> Any:
            return self.task.do(batch)

    started = time.perf_counter()
    first, second, third = Node.remote(Increment()), Node.remote(Double()), Node.remote(Total())
    pending: list[Any] = []
    result = 0
    for start in range(0, len(data), batch_size):
        if len(pending) >= max_inflight:
            done, pending = ray.wait(pending, num_returns=1)
            result += sum(ray.get(done))
        pending.append(third.do.remote(second.do.remote(first.do.remote(data[start:start + batch_size]))))
    result += sum(ray.get(pending))
    for actor in (first, second, third):
        ray.kill(actor)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--max-inflight", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the measurements here as JSON")
    args = parser.parse_args(argv)
    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    data = list(range(args.items))
    expected = sum(2 * (x + 1) for x in data)
    times: dict[str, list[float]] = {"dag": [], "baseline": []}
    for _ in range(args.repeat):
        for name, run in (("dag", run_dag), ("baseline", run_baseline)):
            seconds, result = run(data, args.batch_size, args.max_inflight)
            assert result == expected, (name, result, expected)
            times[name].append(seconds)
            print(f"{name:8s} {seconds:7.3f} s  {args.items / seconds:12,.0f} items/s", file=sys.stderr)
    ray.shutdown()
    report = _report(args, times)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _report(args: argparse.Namespace, times: dict[str, list[float]]) -> dict[str, Any]:
    best = {name: min(values) for name, values in times.items()}
    paired = [dag / base for dag, base in zip(times["dag"], times["baseline"])]
    return {"items": args.items, "batch_size": args.batch_size, "max_inflight": args.max_inflight,
            "seconds": times, "best_ratio": best["dag"] / best["baseline"],
            "median_paired_ratio": statistics.median(paired), "target_ratio": 1.5}


if __name__ == "__main__":
    sys.exit(main())
