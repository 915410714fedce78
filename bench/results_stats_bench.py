"""Benchmark of `results --per-query --significance` end to end, as a user runs it.

Run: `python bench/results_stats_bench.py [--queries Q] [--metrics M] [--repeat R] [--keep DIR]
[--tree DIR ...]`.

It writes a pipeline into a temporary directory whose task `evaluate` prints trec_eval `-q` lines
(`name<TAB>qid<TAB>value`, one block per query, then the `all` summary) for 3 models x 5 datasets, runs it
once (15 job directories), and then times the whole `hypermetric results ... --per-query --significance Model
--resamples 1000` command in a fresh process R times: wall time, and the CPU time (user + sys) the process
used. It prints each run, then the medians, the 1-minute load average before and after, and the machine.
The goal of issue 17: under 2 s wall on the 2-core VM (3 x 5 x 10,000 queries, one metric, 1,000 resamples).

On a shared machine the load moves both figures; to compare two versions of the code, give each as
`--tree DIR` (a directory holding a `hypermetric` package, e.g. `git archive HEAD hypermetric grammar stdlib`
unpacked): the runs then alternate between them, so that both see the same load, and each gets its medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = "evaluate[Dataset: *, Model: *]"

# Each (model, dataset) case draws its per-query values from its own seed; `dense` is better by 0.02 on
# average and `same` prints `bm25`'s values, so the test finds one real difference and one null one.
PIPELINE = """\
data = {{Dataset: d1 d2 d3 d4 d5}}
model = {{Model: bm25 dense same}}
task evaluate(data=$, model=$) -> (out="eval.txt"):
  awk -v m="$model" -v d="$data" -v nq={queries} -v nm={metrics} 'BEGIN {{
    seed = substr(d, 2) * 10 + ((m == "dense") ? 1 : 0); srand(seed)
    off = (m == "dense") ? 0.02 : 0
    for (q = 1; q <= nq; q++) for (k = 1; k <= nm; k++) {{
      v = rand() * 0.9 + off; t[k] += v
      printf "metric_%d              \\t%d\\t%.4f\\n", k, q, v }}
    for (k = 1; k <= nm; k++) printf "metric_%d              \\tall\\t%.4f\\n", k, t[k] / nq }}' > $out
"""


def hypermetric() -> list[str]:
    return [sys.executable, "-m", "hypermetric"]


def environment(tree: str | None) -> dict[str, str]:
    """The environment that runs the `hypermetric` package in `tree` (the installed one for None)."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = os.path.abspath(tree) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def build(root: Path, queries: int, metrics: int) -> None:
    """The pipeline in `root`, run once: 15 finished job directories."""
    (root / "main.hm").write_text(PIPELINE.format(queries=queries, metrics=metrics))
    subprocess.run([*hypermetric(), "run", "main.hm", TARGET, "-s", "-j2"], cwd=root, check=True)


def timed_run(root: Path, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one run of `command` in `root`, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` exited {proc.returncode}:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=1, help="metrics per query (trec_eval -m)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", help="build the workload in DIR (reused when it exists) and keep it")
    parser.add_argument("--tree", action="append",
                        help="run the hypermetric package in DIR (repeatable: the trees' runs alternate)")
    args = parser.parse_args()
    trees = args.tree or [None]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        if not (root / "main.hm").exists():
            root.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            build(root, args.queries, args.metrics)
            print(f"built 15 job directories in {time.perf_counter() - start:.1f} s")
        command = [*hypermetric(), "results", "main.hm", TARGET, "--per-query", "--significance", "Model",
                   "--resamples", str(args.resamples), "--format", "csv"]
        print("command: hypermetric " + " ".join(command[3:]))
        load_before = os.getloadavg()[0]
        for tree in trees:
            timed_run(root, command, environment(tree))  # warm the page cache and the bytecode cache
        runs: dict[str | None, list[tuple[float, float]]] = {tree: [] for tree in trees}
        for i in range(args.repeat):
            for tree in trees:
                wall, cpu = timed_run(root, command, environment(tree))
                runs[tree].append((wall, cpu))
                print(f"run {i + 1}{f' ({tree})' if tree else ''}: {wall:.3f} s wall, {cpu:.3f} s CPU")
        load_after = os.getloadavg()[0]
    lines = 15 * (args.queries + 1) * args.metrics
    print(f"{lines:,} lines, {args.resamples} resamples; load average {load_before:.1f} before, "
          f"{load_after:.1f} after; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    for tree, timings in runs.items():
        walls, cpus = [w for w, _ in timings], [c for _, c in timings]
        print(f"{tree or 'installed'}: median {statistics.median(walls):.3f} s wall (min {min(walls):.3f}, "
              f"max {max(walls):.3f}), median {statistics.median(cpus):.3f} s CPU (min {min(cpus):.3f})")


if __name__ == "__main__":
    main()
