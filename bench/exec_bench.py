"""Execution overhead benchmark: 1,000 no-op jobs through `run_graph` against a bare thread pool.

    .venv/bin/python bench/exec_bench.py [--n 1000] [--jobs 2] [--reps 3] [--root DIR]

Each job is a bash script `: > "$o"` that writes its one output. The floor is a
`concurrent.futures.ThreadPoolExecutor(jobs)` that spawns the same `bash -e script` processes in directories
prepared beforehand (untimed), with the same environment variables. `run_graph` is timed end to end
(status checks, directories, locks, scripts, `args`, `job.json`, `exitcode`, output checks), once silent
and once streaming job output as events to a no-op subscriber. A second floor, "thread pool + job files",
creates the same files per job as the on-disk contract asks for (directory, `.lock`, `script`, `args`,
`stdout`, `stderr`, `job.json`, `exitcode`) with no other logic: on a disk where creating a file is slow,
that, not Python, is the cost of the protocol. Then the cached re-check: `run_graph` over the 1,000 complete
jobs, and the bare `is_complete` loop.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.store.status import is_complete

SCRIPT = ': > "$o"\n'


class Clock:
    """Wall time and CPU time (this process and its children) between `start()` and `stop()`."""

    def start(self) -> None:
        self._wall, self._cpu = time.perf_counter(), _cpu()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self._wall, _cpu() - self._cpu


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def make_graph(root: str, n: int) -> JobGraph:
    jobs = {}
    for i in range(n):
        workdir = os.path.join(root, "t", f"I={i}")
        job = Job(id=f"t?I={i}", name="t", case=(("I", str(i)),), full_case=(("I", str(i)),),
                  relpath=f"t/I={i}", workdir=workdir, script=SCRIPT,
                  variables=(("o", os.path.join(workdir, "o")),), outputs=(("o", "o"),))
        jobs[job.id] = job
    return JobGraph(jobs, targets=sorted(jobs), root=root)


def thread_pool(root: str, n: int, workers: int) -> tuple[float, float]:
    dirs = []
    for i in range(n):
        d = os.path.join(root, f"t{i}")
        os.makedirs(d)
        with open(os.path.join(d, "script"), "w") as f:
            f.write(SCRIPT)
        dirs.append(d)

    def one(d: str) -> int:
        env = dict(os.environ, o=os.path.join(d, "o"))
        with open(os.path.join(d, "stdout"), "wb") as out, open(os.path.join(d, "stderr"), "wb") as err:
            return subprocess.run(["bash", "-e", "script"], cwd=d, env=env, stdout=out, stderr=err).returncode

    clock = Clock()
    clock.start()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(one, dirs))
    elapsed = clock.stop()
    assert not any(codes)
    return elapsed


def layout_floor(root: str, n: int, workers: int) -> tuple[float, float]:
    """The thread pool again, each job also creating the files of the on-disk contract (no other logic)."""
    os.makedirs(root)

    def one(i: int) -> int:
        d = os.path.join(root, f"t{i}")
        os.mkdir(d)
        files = {name: os.path.join(d, name) for name in (".lock", "script", "args", "job.json", "exitcode")}
        open(files[".lock"], "w").close()
        for name, text in (("script", SCRIPT), ("args", f"o='{d}/o'\n")):
            with open(files[name], "w") as f:
                f.write(text)
        env = dict(os.environ, o=os.path.join(d, "o"))
        with open(os.path.join(d, "stdout"), "wb") as out, open(os.path.join(d, "stderr"), "wb") as err:
            code = subprocess.run(["bash", "-e", "script"], cwd=d, env=env, stdout=out, stderr=err).returncode
        for name, text in (("job.json", "{}"), ("exitcode", str(code))):
            with open(files[name], "w") as f:
                f.write(text)
        os.unlink(files[".lock"])
        return code

    clock = Clock()
    clock.start()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(one, range(n)))
    elapsed = clock.stop()
    assert not any(codes)
    return elapsed


def engine(root: str, n: int, workers: int, silent: bool) -> dict[str, tuple[float, float]]:
    graph = make_graph(root, n)
    options = RunOptions(jobs=workers, silent=silent)
    clock = Clock()
    clock.start()
    report = run_graph(graph, options, lambda event: None)
    run = clock.stop()
    assert report.exit_code == 0 and report.executed == n, report.counts()
    clock.start()
    again = run_graph(graph, options, lambda event: None)
    cached = clock.stop()
    assert again.executed == 0
    clock.start()
    assert all(is_complete(job) for job in graph.jobs.values())
    check = clock.stop()
    name = "run_graph" + (" (silent)" if silent else " (output events)")
    return {name: run, "cached re-run (run_graph)": cached, "cached is_complete loop": check}


def measure(base: str, n: int, workers: int, reps: int) -> dict[str, list[tuple[float, float]]]:
    """Every variant once per repetition, interleaved, so a busy machine slows them alike."""
    rows: dict[str, list[tuple[float, float]]] = {}
    for rep in range(reps):
        rows.setdefault("thread pool", []).append(thread_pool(os.path.join(base, f"pool{rep}"), n, workers))
        floor = layout_floor(os.path.join(base, f"floor{rep}"), n, workers)
        rows.setdefault("thread pool + job files", []).append(floor)
        for silent in (True, False):
            for name, value in engine(os.path.join(base, f"hm{rep}{silent}"), n, workers, silent).items():
                rows.setdefault(name, []).append(value)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--root", default=None, help="scratch directory (default: a fresh temporary one)")
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="hm-exec-bench-", dir=args.root)
    try:
        rows = measure(base, args.n, args.jobs, args.reps)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    floor_wall = min(w for w, _ in rows["thread pool"])
    floor_cpu = min(c for _, c in rows["thread pool"])
    print(f"{args.n} no-op jobs, jobs={args.jobs}, best of {args.reps}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, scratch {base}")
    print(f"  {'':28s} {'wall':>8s} {'ratio':>6s} {'cpu':>8s} {'ratio':>6s}  all walls")
    for name, values in rows.items():
        wall, cpu = min(w for w, _ in values), min(c for _, c in values)
        cached = name.startswith("cached")
        ratios = ("", "") if cached else (f"{wall / floor_wall:.2f}x", f"{cpu / floor_cpu:.2f}x")
        walls = ", ".join(f"{w:.3f}" for w, _ in values)
        print(f"  {name:28s} {wall:7.3f}s {ratios[0]:>6s} {cpu:7.3f}s {ratios[1]:>6s}  ({walls})")


if __name__ == "__main__":
    main()
