"""Ray backend overhead: 1,000 no-op jobs through `run_graph` on an embedded Ray against raw Ray tasks.

    .venv/bin/python bench/ray_bench.py [--n 1000] [--cpus 2] [--reps 3] [--root DIR]

Start-up is timed once and reported apart: `ray.init` of an embedded local Ray with `--cpus` CPUs, then one
round of tasks that starts a worker per CPU. The floor ("raw Ray tasks") is one `@ray.remote` task per job
that spawns the same `bash -e script` process (the script `: > "$o"` writes the job's one output) in a
directory prepared beforehand (untimed), with its stdout and stderr in files; all tasks are submitted at
once and gathered with `ray.get`. `run_graph` with the Ray backend is timed end to end (scheduler, events,
submission, and on the workers the whole job protocol: status checks, directories, locks, scripts, `args`,
`job.json`, `exitcode`, output checks): with every job handed to Ray at once (`-j n`, silent, and streaming
job output as events to a no-op subscriber), and with `-j cpus`, where the scheduler hands Ray only as many
jobs as there are CPUs. Every variant runs once per repetition, interleaved; the best wall time counts.
Next to wall time, "cpu" is the CPU time of the whole embedded cluster (this process and every process
below it: GCS, raylet, workers, and the finished bash processes they waited for), read from `/proc`: on a
machine that other work keeps busy it varies much less than wall time; "paired" is the median, over the
repetitions, of each variant's CPU divided by the floor's CPU in the same repetition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import ray

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job

SCRIPT = ': > "$o"\n'
_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu() -> float:
    """CPU seconds of this process and its descendants, each with the children it has waited for."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(name)] = int(fields[1])
        ticks[int(name)] = sum(int(x) for x in fields[11:15])
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree) / _TICK


def make_graph(root: str, n: int) -> JobGraph:
    jobs = {}
    for i in range(n):
        workdir = os.path.join(root, "t", f"I={i}")
        job = Job(id=f"t?I={i}", name="t", case=(("I", str(i)),), full_case=(("I", str(i)),),
                  relpath=f"t/I={i}", workdir=workdir, script=SCRIPT,
                  variables=(("o", os.path.join(workdir, "o")),), outputs=(("o", "o"),))
        jobs[job.id] = job
    return JobGraph(jobs, targets=sorted(jobs), root=root)


@ray.remote
def raw_job(workdir: str) -> int:
    env = dict(os.environ, o=os.path.join(workdir, "o"))
    out_path, err_path = os.path.join(workdir, "stdout"), os.path.join(workdir, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        return subprocess.run(["bash", "-e", "script"], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=err, check=False).returncode


@ray.remote
def nothing() -> None:
    return None


def start(cpus: int) -> float:
    begin = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    ray.get([nothing.remote() for _ in range(4 * cpus)])
    return time.perf_counter() - begin


def raw(root: str, n: int) -> float:
    dirs = []
    for i in range(n):
        d = os.path.join(root, f"t{i}")
        os.makedirs(d)
        with open(os.path.join(d, "script"), "w") as f:
            f.write(SCRIPT)
        dirs.append(d)
    begin = time.perf_counter()
    codes = ray.get([raw_job.remote(d) for d in dirs])
    elapsed = time.perf_counter() - begin
    assert not any(codes)
    return elapsed


def hypermetric(root: str, n: int, jobs: int, silent: bool) -> float:
    graph = make_graph(root, n)
    begin = time.perf_counter()
    report = run_graph(graph, RunOptions(jobs=jobs, silent=silent, backend="ray"), lambda event: None)
    elapsed = time.perf_counter() - begin
    assert report.exit_code == 0 and report.executed == n, report.counts()
    return elapsed


def measure(base: str, n: int, cpus: int, reps: int) -> dict[str, list[tuple[float, float]]]:
    rows: dict[str, list[tuple[float, float]]] = {}
    variants = {
        "raw Ray tasks": lambda root: raw(root, n),
        f"run_graph -j {n} (silent)": lambda root: hypermetric(root, n, n, True),
        f"run_graph -j {n} (output events)": lambda root: hypermetric(root, n, n, False),
        f"run_graph -j {cpus} (silent)": lambda root: hypermetric(root, n, cpus, True),
    }
    for rep in range(reps):
        for k, (name, fn) in enumerate(variants.items()):
            cpu = tree_cpu()
            wall = fn(os.path.join(base, f"r{rep}v{k}"))
            rows.setdefault(name, []).append((wall, tree_cpu() - cpu))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--root", default=None, help="scratch directory (default: a fresh temporary one)")
    args = parser.parse_args()
    os.environ.pop("RAY_ADDRESS", None)
    base = tempfile.mkdtemp(prefix="hm-ray-bench-", dir=args.root)
    try:
        startup = start(args.cpus)
        rows = measure(base, args.n, args.cpus, args.reps)
    finally:
        ray.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    floor_wall = min(w for w, _ in rows["raw Ray tasks"]) / args.n
    floor_cpu = min(c for _, c in rows["raw Ray tasks"]) / args.n
    print(f"{args.n} no-op jobs on an embedded Ray with {args.cpus} CPUs, best of {args.reps}, "
          f"python {sys.version.split()[0]}, ray {ray.__version__}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  start-up (ray.init + one worker per CPU): {startup:.2f}s")
    print(f"  {'':34s} {'wall/job':>9s} {'ratio':>6s} {'cpu/job':>9s} {'ratio':>6s} {'paired':>7s}  all walls")
    floor = rows["raw Ray tasks"]
    for name, values in rows.items():
        wall = min(w for w, _ in values) / args.n
        cpu = min(c for _, c in values) / args.n
        # each repetition's CPU against the floor's in the same repetition: steadier when the load changes
        paired = statistics.median(c / f for (_, c), (_, f) in zip(values, floor))
        listing = ", ".join(f"{w:.2f}" for w, _ in values)
        print(f"  {name:34s} {wall * 1000:7.2f}ms {wall / floor_wall:5.2f}x {cpu * 1000:7.2f}ms "
              f"{cpu / floor_cpu:5.2f}x {paired:6.2f}x  ({listing})")


if __name__ == "__main__":
    main()
