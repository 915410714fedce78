"""Joining a running Ray cluster: a one-job run and a cached re-run through the CLI, `--ray-address auto`.

    .venv/bin/python bench/ray_join_bench.py [--reps 3]

Starts a head (`ray start --head --block --num-cpus 2`) in a temporary directory of its own (`RAY_TMPDIR`,
where `auto` finds it; ports no other cluster uses), then times, per repetition: `hypermetric run` of a
one-job pipeline (its output removed first, so the job runs) and the same command again with the job done.
Reported: the best and median wall time and the CPU time of the CLI process and its children (the cluster's
own processes are not counted), and whether the package was shipped (unpacked on the node). The head is
stopped with its process group, never with `ray stop` (which would stop every Ray on the machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINE = "task t -> o:\n  echo ran > $o\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_head(tmp: str, env: dict[str, str]) -> subprocess.Popen:
    log = Path(tmp, "head.log")
    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    with open(log, "w") as out:
        proc = subprocess.Popen([ray, "start", "--head", "--block", "--num-cpus", "2", "--port", str(free_port()),
                                 "--dashboard-agent-listen-port", str(free_port()), "--include-dashboard=false",
                                 "--disable-usage-stats", "--temp-dir", os.path.join(tmp, "ray")],
                                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 300
    while "block forever" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_head(proc)
            raise SystemExit("ray start --head failed:\n" + log.read_text()[-2000:])
        time.sleep(0.1)
    return proc


def stop_head(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def timed(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="hmjoin", dir="/tmp")   # Ray's socket paths must stay short
    env = {**os.environ, "RAY_TMPDIR": tmp, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    env.pop("RAY_ADDRESS", None)
    project = os.path.join(tmp, "project")
    os.makedirs(project)
    Path(project, "main.hm").write_text(PIPELINE)
    argv = [sys.executable, "-m", "hypermetric", "run", "t", "--backend", "ray", "--ray-address", "auto"]
    rows: dict[str, list[tuple[float, float]]] = {"one-job run": [], "cached re-run": []}
    head = start_head(tmp, env)
    try:
        for _ in range(args.reps):
            shutil.rmtree(os.path.join(project, "out"), ignore_errors=True)
            rows["one-job run"].append(timed(argv, project, env))
            rows["cached re-run"].append(timed(argv, project, env))
        shipped = list(Path(tmp, "ray", "session_latest", "runtime_resources").glob("py_modules_files/_ray_pkg_*"))
    finally:
        stop_head(head)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"joining a running 2-CPU Ray head with --ray-address auto, {args.reps} reps, python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; package shipped: "
          f"{'yes' if shipped else 'no'}")
    for name, values in rows.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(f"  {name:14s} wall best {min(walls):5.2f}s median {statistics.median(walls):5.2f}s   "
              f"cpu best {min(cpus):5.2f}s median {statistics.median(cpus):5.2f}s")


if __name__ == "__main__":
    main()
