"""Ray backend overhead: 1,000 no-op jobs through `run_graph` on an embedded Ray against raw Ray tasks.

    .venv/bin/python bench/ray_bench.py [--n 1000] [--cpus 2] [--reps 5] [--variants jn-silent,...]
                                        [--json FILE] [--root DIR]

Start-up is timed once and reported apart: `ray.init` of an embedded local Ray with `--cpus` CPUs, then one
round of tasks that starts a worker per CPU; then every variant runs 50 jobs untimed, so that the workers
have imported what it runs. The floor (`raw`) is one `@ray.remote` task per job that spawns the same
`bash -e script` process (the script `: > "$o"` writes the job's one output) in a directory prepared
beforehand (untimed), with its stdout and stderr in files; all tasks are submitted at once and gathered with
`ray.get`. `run_graph` with the Ray backend is timed end to end (scheduler, events, submission, and on the
workers the whole job protocol: status checks, directories, locks, scripts, `args`, `job.json`, `exitcode`,
output checks): with every job started at once (`jn-silent`; `jn-events` streams job output as events
to a no-op subscriber), and with `-j cpus` (`jcpus-silent`), where the scheduler starts only as many jobs
as there are CPUs (as `hypermetric run -j2 --backend ray` does). `raw-batch4` is the floor with four jobs per
task, run one after the other: what Ray's own per-task cost is. `raw-stream4` runs four jobs per task too, but
as a streaming generator that yields each job's exit code as it ends, taken by the driver with `ray.wait`
over the generators as each is ready: what hearing of every job's end through Ray costs when jobs share a task.
`raw-told4` runs four jobs per task and sends each job's end to the driver as a datagram on a Unix socket
instead, outside Ray: what jobs sharing a task cost when the driver still hears of each end at once. This Ray
is one this process started, so the backend runs the jobs in runners, Ray tasks that each run job after job
sent by the driver and tell each end over a Unix socket (`execution/ray_pull.py`), as it does on the Ray that
`run` starts; at most as many at once as Ray has CPUs. `jcpus-tcp` and `jcpus-tasks` run as `jcpus-silent`
with the backend taking this Ray for a cluster it joined: runners connect over TCP to this node's address,
as they do on a joined cluster, or (`jcpus-tasks`) every job is a Ray task of its own, as on a joined cluster
until 2026-12-04 and still where runners cannot be used (Ray Client, TLS).

Every variant runs once per repetition, the order reversed every other repetition, so each run of ours has a
floor run beside it. The figures are medians over the repetitions, per job. Wall time moves with whatever
else the machine runs; CPU time much less: "cpu" is the CPU time of the whole embedded cluster, read from
`/proc` and split by process: this `driver` process (with Ray's threads in it), the `workers`, the `job
processes` the workers waited for (the scripts, with bash), the `watchdogs` our workers start (nobody's
children: found by the raylet named in their environment) and the `ray daemons` (GCS, raylet, helpers).
"paired" is the median of each variant's CPU over the floor's CPU in the same repetition.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import ray
from ray_cpu import KINDS, cpu_by_kind, cpu_spent

from hypermetric.execution import ray_backend
from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job

SCRIPT = ': > "$o"\n'
def make_graph(root: str, n: int) -> JobGraph:
    jobs = {}
    for i in range(n):
        workdir = os.path.join(root, "t", f"I={i}")
        job = Job(id=f"t?I={i}", name="t", case=(("I", str(i)),), full_case=(("I", str(i)),),
                  relpath=f"t/I={i}", workdir=workdir, script=SCRIPT,
                  variables=(("o", os.path.join(workdir, "o")),), outputs=(("o", "o"),))
        jobs[job.id] = job
    return JobGraph(jobs, targets=sorted(jobs), root=root)


def run_script(workdir: str) -> int:
    env = dict(os.environ, o=os.path.join(workdir, "o"))
    out_path, err_path = os.path.join(workdir, "stdout"), os.path.join(workdir, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        return subprocess.run(["bash", "-e", "script"], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=err, check=False).returncode


@ray.remote
def raw_job(workdir: str) -> int:
    return run_script(workdir)


@ray.remote
def raw_jobs(workdirs: list[str]) -> int:
    """Several jobs in one task, one after the other: what Ray's per-task cost is, next to a job's."""
    return sum(run_script(workdir) != 0 for workdir in workdirs)


@ray.remote(num_returns="streaming")
def raw_jobs_streamed(workdirs: list[str]):
    """Several jobs in one task, each job's exit code yielded as it ends (a streaming generator): the
    driver hears of every job's end on its own, as a scheduler needs to."""
    for workdir in workdirs:
        yield run_script(workdir)


def _gather_streamed(generators: list) -> list[int]:
    """Every item of `generators`, each taken as soon as it is ready (`ray.wait` over the generators)."""
    codes, live = [], list(generators)
    while live:
        ready, _ = ray.wait(live, num_returns=1)
        for gen in ready:
            try:
                codes.append(ray.get(next(gen)))
            except StopIteration:
                live.remove(gen)
    return codes


_ENDS: socket.socket | None = None   # a worker's socket for telling the driver of each job's end


@ray.remote
def raw_jobs_told(workdirs: list[str], told: str) -> int:
    """Several jobs in one task, each job's end sent to the driver as a datagram on the Unix socket `told`
    as it happens, outside Ray."""
    global _ENDS
    if _ENDS is None:
        _ENDS = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    failed = 0
    for workdir in workdirs:
        code = run_script(workdir)
        failed += code != 0
        _ENDS.sendto(f"{workdir} {code}".encode(), told)
    return failed


def _told_ends(n: int, batch: int, dirs: list[str]) -> list[int]:
    """Run `dirs` as `raw_jobs_told` tasks of `batch` jobs, taking each job's end from the socket as it
    comes; every job's exit code."""
    folder = tempfile.mkdtemp(prefix="hm-ray-bench-ends-")
    path = os.path.join(folder, "ends")
    ends = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ends.bind(path)
    try:
        refs = [raw_jobs_told.remote(dirs[i:i + batch], path) for i in range(0, n, batch)]
        codes = [int(ends.recv(4096).rsplit(b" ", 1)[1]) for _ in range(n)]
        ray.get(refs)
        return codes
    finally:
        ends.close()
        shutil.rmtree(folder, ignore_errors=True)


@ray.remote
def nothing() -> None:
    return None


def start(cpus: int) -> float:
    begin = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    ray.get([nothing.remote() for _ in range(4 * cpus)])
    return time.perf_counter() - begin


def raw(root: str, n: int, batch: int = 1, streamed: bool = False, told: bool = False) -> float:
    dirs = []
    for i in range(n):
        d = os.path.join(root, f"t{i}")
        os.makedirs(d)
        with open(os.path.join(d, "script"), "w") as f:
            f.write(SCRIPT)
        dirs.append(d)
    begin = time.perf_counter()
    if batch == 1:
        codes = ray.get([raw_job.remote(d) for d in dirs])
    elif told:
        codes = _told_ends(n, batch, dirs)
    elif streamed:
        codes = _gather_streamed([raw_jobs_streamed.remote(dirs[i:i + batch]) for i in range(0, n, batch)])
        assert len(codes) == n
    else:
        codes = ray.get([raw_jobs.remote(dirs[i:i + batch]) for i in range(0, n, batch)])
    elapsed = time.perf_counter() - begin
    assert not any(codes)
    return elapsed


def hypermetric(root: str, n: int, jobs: int, silent: bool, joined: str = "") -> float:
    """`run_graph` on this process's Ray; with `joined`, the backend takes it for a cluster it joined:
    runners reach it over TCP (`tcp`), or every job is a Ray task (`tasks`, as where runners cannot be used)."""
    graph = make_graph(root, n)
    saved = ray_backend.started_here, ray_backend.runners_usable
    if joined:
        ray_backend.started_here = lambda ray: False
    if joined == "tasks":
        ray_backend.runners_usable = lambda ray: False
    try:
        begin = time.perf_counter()
        report = run_graph(graph, RunOptions(jobs=jobs, silent=silent, backend="ray"), lambda event: None)
        elapsed = time.perf_counter() - begin
    finally:
        ray_backend.started_here, ray_backend.runners_usable = saved
    assert report.exit_code == 0 and report.executed == n, report.counts()
    return elapsed


def variants(n: int, cpus: int, chosen: list[str] | None) -> dict[str, Callable[[str], float]]:
    every = {
        "raw": lambda root: raw(root, n),
        "raw-batch4": lambda root: raw(root, n, 4),
        "raw-stream4": lambda root: raw(root, n, 4, streamed=True),
        "raw-told4": lambda root: raw(root, n, 4, told=True),
        "jn-silent": lambda root: hypermetric(root, n, n, True),
        "jn-events": lambda root: hypermetric(root, n, n, False),
        "jcpus-silent": lambda root: hypermetric(root, n, cpus, True),
        "jcpus-tcp": lambda root: hypermetric(root, n, cpus, True, joined="tcp"),
        "jcpus-tasks": lambda root: hypermetric(root, n, cpus, True, joined="tasks"),
    }
    return {name: fn for name, fn in every.items() if name == "raw" or not chosen or name in chosen}


def measure(base: str, runs: dict[str, Callable[[str], float]], reps: int) -> dict[str, list[dict[str, float]]]:
    """Each variant once per repetition, the order reversed every other repetition (the floor first, then
    last): so each of ours has a floor run next to it, and a change of load hits both."""
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for rep in range(reps):
        order = list(runs) if rep % 2 == 0 else list(runs)[::-1]
        for name in order:
            before = cpu_by_kind()
            wall = runs[name](os.path.join(base, f"r{rep}-{name}"))
            rows[name].append({"wall": wall, **cpu_spent(before, cpu_by_kind())})
    return rows


def summary(rows: dict[str, list[dict[str, float]]], n: int) -> dict[str, dict[str, float]]:
    """Per variant, milliseconds per job (medians over the repetitions) and, as `paired`, the median of its
    CPU over the floor's CPU in the same repetition."""
    floor = rows["raw"]
    out = {}
    for name, values in rows.items():
        cpu = [sum(v[k] for k in KINDS) for v in values]
        floor_cpu = [sum(v[k] for k in KINDS) for v in floor]
        line = {key: statistics.median(v[key] for v in values) / n * 1000 for key in ("wall", *KINDS)}
        line["cpu"] = statistics.median(cpu) / n * 1000
        line["paired"] = statistics.median(c / f for c, f in zip(cpu, floor_cpu))
        out[name] = line
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--variants", default="", help="comma-separated: raw-batch4, raw-stream4, raw-told4, "
                                                        "jn-silent, jn-events, jcpus-silent, jcpus-tcp, "
                                                        "jcpus-tasks (default: all; the "
                                                        "floor `raw` always runs)")
    parser.add_argument("--json", default=None, help="also write every measurement to this file")
    parser.add_argument("--root", default=None, help="scratch directory (default: a fresh temporary one)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the scratch directory in place: deleting thousands of files slows down the "
                             "file creations of the next minutes on ext4, so back-to-back runs compare badly")
    args = parser.parse_args()
    os.environ.pop("RAY_ADDRESS", None)
    base = tempfile.mkdtemp(prefix="hm-ray-bench-", dir=args.root)
    runs = variants(args.n, args.cpus, [v for v in args.variants.split(",") if v])
    load = [os.getloadavg()[0]]
    try:
        startup = start(args.cpus)
        warm = variants(50, args.cpus, list(runs))   # every worker imports what each variant runs
        for name, fn in warm.items():
            fn(os.path.join(base, f"warm-{name}"))
        rows = measure(base, runs, args.reps)
    finally:
        ray.shutdown()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    load.append(os.getloadavg()[0])
    table = summary(rows, args.n)
    print(f"{args.n} no-op jobs on an embedded Ray with {args.cpus} CPUs, {args.reps} repetitions (medians), "
          f"python {sys.version.split()[0]}, ray {ray.__version__}, {os.cpu_count()} CPUs, "
          f"load {load[0]:.1f} -> {load[1]:.1f}")
    print(f"  start-up (ray.init + one worker per CPU): {startup:.2f}s; ms per job:")
    print(f"  {'':13s} {'wall':>6s} {'cpu':>6s} {'paired':>6s} " + " ".join(f"{k:>13s}" for k in KINDS))
    for name, line in table.items():
        print(f"  {name:13s} {line['wall']:6.2f} {line['cpu']:6.2f} {line['paired']:5.2f}x "
              + " ".join(f"{line[k]:13.3f}" for k in KINDS))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "cpus": args.cpus, "reps": args.reps, "load": load, "startup_s": startup,
                       "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                       "ray": ray.__version__, "python": sys.version.split()[0], "machine_cpus": os.cpu_count(),
                       "ms_per_job_medians": table, "runs_seconds": rows}, f, indent=1)


if __name__ == "__main__":
    main()
