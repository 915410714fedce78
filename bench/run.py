#!/usr/bin/env python3
"""Run the workflow-tool benchmark.

Generates every workload for every tool (gen.py) into a scratch directory,
runs one untimed warm-up (w0) per tool, then each (workload, tool) cell
--reps times, clearing outputs between runs by moving them aside (they are
deleted at the end; see clean()) except for w4, which is primed once and then
re-run on up-to-date outputs, and w7, which each tool's setup makes mostly done
once (untimed) and each run's own jobs are removed after (see reset_resume()),
times each run (wall clock, plus peak RSS and CPU time from /usr/bin/time -v
when available), checks from tasks.log that every task ran exactly once (or,
for w4/w5, not at all), writes one CSV row per run and prints markdown tables
of medians.

  python3 bench/run.py                         # all tools, all workloads, 3 reps
  python3 bench/run.py --reps 1 --tools make,threadpool --workloads w1,w3
  python3 bench/run.py --quick                 # tiny sizes, smoke test
  python3 bench/run.py --report results/a.csv results/b.csv   # tables only

Peers (snakemake, doit, ray) are looked up in --peers-venv (default
/tmp/benchpeers, made by bench/setup_peers.sh) and then on PATH.  hypermetric
is --hypermetric / $HYPERMETRIC_BIN, else this repository's
.venv/bin/hypermetric, else the one on PATH; its folder is put on PATH (after
the peers') and a leading bare `hypermetric` in a command becomes its full
path.  The hypermetric-ray column runs only if a probe (a two-job pipeline
run with the Ray arguments) succeeds; otherwise its rows read "missing" and
the probe's error is kept in the meta file.

Every row records the 1-minute load average taken just before the run, and
the meta file the machine (cores, CPU, memory), the load at start and end,
and the versions.  The markdown adds, next to the medians, the median CPU
time, the ratios of hypermetric to each other tool and the project's goals.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402  (found through the path set just above)

TIME = "/usr/bin/time"
REPO = os.path.dirname(HERE)
FIELDS = ["date", "tool", "version", "workload", "title", "mode", "n_tasks", "jobs",
          "rep", "status", "wall_s", "max_rss_mb", "cpu_s", "sys_s", "load1", "fs_probe_us", "first_job_s",
          "note"]
FS_PROBE_FILES = 64
SUBJECTS = ["hypermetric", "hypermetric-ray"]   # the tools the ratio tables are about
BASES = ["make", "snakemake", "snakemake-greedy", "doit", "threadpool", "ray"]
PROBE_HM = """\
a = {A: 0 1}

task t(a=$) -> out:
  echo $a > $out
"""


# --------------------------------------------------------------------------
# tool discovery

def find_hypermetric(explicit: str | None) -> str | None:
    """The hypermetric executable: explicit, else <repo>/.venv/bin, else PATH."""
    for cand in (explicit, os.path.join(REPO, ".venv", "bin", "hypermetric")):
        if cand and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    if explicit:
        return shutil.which(explicit)
    return shutil.which("hypermetric")


def tool_env(peers_venv: str, hm: str | None) -> dict:
    env = dict(os.environ)
    vbin = os.path.join(peers_venv, "bin")
    path = env.get("PATH", "")
    if hm:   # after the peers' bin: the repo venv also holds python, ray, ...
        path = os.path.dirname(hm) + os.pathsep + path
    if os.path.isdir(vbin):
        path = vbin + os.pathsep + path
    env["PATH"] = path
    env.pop("PYTHONPATH", None)
    # Byte-code caching on, in one cache outside the repository for every
    # Python tool: with PYTHONDONTWRITEBYTECODE set (as in some CI shells) an
    # editable install such as hypermetric's would recompile its own modules
    # on every start, while the pip-installed peers ship .pyc files.  The
    # untimed warm-up run fills the cache for all of them alike.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.environ.get("BENCH_PYCACHE", "/tmp/hmbench-pycache")
    env.pop("VIRTUAL_ENV", None)
    env.pop("RAY_ADDRESS", None)   # hypermetric's `auto` backend must mean local
    return env


def git_rev() -> str | None:
    """Short commit of the repository and whether hypermetric/ differs from it
    (read-only git calls: --no-optional-locks keeps the index untouched)."""
    g = ["git", "--no-optional-locks", "-C", REPO]
    try:
        rev = subprocess.run(g + ["rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30, check=False)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(g + ["status", "--porcelain", "--", "hypermetric"],
                               capture_output=True, text=True, timeout=60, check=False)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def probe_hm(hm: str, extra_args: list[str], env: dict, timeout: float = 300) -> tuple[bool, str]:
    """Run a two-job pipeline with hypermetric's run template + extra_args in a
    scratch dir; (worked, message)."""
    import shlex
    d = tempfile.mkdtemp(prefix="hmprobe-")
    try:
        with open(os.path.join(d, "main.hm"), "w") as f:
            f.write(PROBE_HM)
        argv = [a.format(file="main.hm", target="t[A: *]", jobs="2") for a in shlex.split(gen.HM_RUN)]
        argv = [hm if i == 0 and a == "hypermetric" else a for i, a in enumerate(argv)] + extra_args
        t0 = time.perf_counter()
        try:
            p = subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True, check=False,
                               timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)
        except subprocess.TimeoutExpired:
            return False, f"probe timed out after {timeout:.0f}s: {' '.join(argv)}"
        wall = time.perf_counter() - t0
        outs = []
        for root, _, files in os.walk(os.path.join(d, "out")):
            outs += [os.path.join(root, x) for x in files if x == "out"]
        if p.returncode != 0 or len(outs) < 2:
            tail = (p.stdout + p.stderr).strip().replace("\n", " | ")[-500:]
            return False, f"`{' '.join(argv[1:])}` rc={p.returncode}, {len(outs)} outputs: {tail}"
        return True, f"probe ok in {wall:.1f}s"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def first_line(argv, env) -> str | None:
    try:
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    out = (p.stdout.strip() or p.stderr.strip()).splitlines()
    return out[0].strip() if out else ""


def discover(env: dict, peers_venv: str, doit_par: str, hm: str | None,
             probe_ray: bool = True) -> dict:
    """tool -> {'available': bool, 'version': str, 'subst': {...}}"""
    path = env["PATH"]
    vpy = os.path.join(peers_venv, "bin", "python")
    python = vpy if os.path.exists(vpy) else sys.executable
    pyver = first_line([python, "-c", "import sys; print(sys.version.split()[0])"], env)
    bashver = first_line(["bash", "-c", "echo $BASH_VERSION"], env)
    tools = {}

    def add(name, ok, version):
        tools[name] = {"available": bool(ok), "version": version if ok else "missing"}

    mk = shutil.which("make", path=path)
    add("make", mk, first_line([mk, "--version"], env) if mk else None)
    sm = shutil.which("snakemake", path=path)
    add("snakemake", sm, ("snakemake " + (first_line([sm, "--version"], env) or "?")) if sm else None)
    tools["snakemake-greedy"] = dict(tools["snakemake"])
    if sm:
        tools["snakemake-greedy"]["version"] += " --scheduler greedy"
    di = shutil.which("doit", path=path)
    add("doit", di, ("doit " + (first_line([di, "--version"], env) or "?") + f" (-P {doit_par})") if di else None)
    add("threadpool", True, f"python {pyver} ThreadPoolExecutor+subprocess")
    rv = first_line([python, "-c", "import ray; print(ray.__version__)"], env)
    add("ray", rv, f"ray {rv} (python {pyver})")
    hv = None
    if hm:
        hv = first_line([hm, "--version"], env) or "hypermetric (version unknown)"
        rev = git_rev()
        if rev:
            hv += f" (git {rev})"
    add("hypermetric", hm, hv)
    import shlex
    ray_args = shlex.split(gen.HM_RAY_ARGS)
    if hm and probe_ray:
        ok, msg = probe_hm(hm, ray_args, env)
    else:
        ok, msg = False, "no hypermetric executable" if not hm else "probe skipped"
    add("hypermetric-ray", ok, f"{hv} {' '.join(ray_args)}")
    tools["hypermetric-ray"]["probe"] = msg
    hmpy = None
    if hm:
        hmpy = first_line([os.path.join(os.path.dirname(hm), "python"), "-c",
                           "import sys; print(sys.version.split()[0])"], env)
    subst = {"python": python, "doit_par": doit_par, "hypermetric": hm or "hypermetric",
             "hm_python": os.path.join(os.path.dirname(hm), "python") if hm else sys.executable}
    meta = {"python": pyver, "hypermetric_python": hmpy, "bash": bashver, "subst": subst,
            "hypermetric_path": hm, "hypermetric_ray_probe": msg}
    return tools, meta


# --------------------------------------------------------------------------
# one run

_TRASH = {"n": 0}


def trash_dir(entry: dict) -> str:
    """<generation root>/.trash: where clean() moves old outputs."""
    return os.path.join(os.path.dirname(os.path.dirname(entry["dir"])), ".trash")


def clean(entry: dict):
    """Move everything but the inputs out of the workload dir, then make an
    empty out/.

    The old files are *renamed* into a trash folder, not deleted: deleting is
    left to the end of the benchmark.  On ext4 without a journal (the disk
    here) the inode allocator skips inodes freed in the last one to six
    minutes by reading each one's inode-table entry (`recently_deleted()` in
    fs/ext4/ialloc.c), so a run that starts right after thousands of files
    were deleted pays for every file it creates in proportion to them: the
    timing would then depend on how many files the previous run left behind
    (hypermetric leaves ~8 per job, make 1).
    """
    d = entry["dir"]
    keep = set(entry["inputs"])
    moved = [n for n in os.listdir(d) if n not in keep]
    if moved:
        _TRASH["n"] += 1
        bin_ = os.path.join(trash_dir(entry), str(_TRASH["n"]))
        os.makedirs(bin_)
        for name in moved:
            os.rename(os.path.join(d, name), os.path.join(bin_, name))
    # every tool gets an existing, empty out/ (doit does not create target
    # directories; make's order-only `out:` rule then has nothing to do)
    os.makedirs(os.path.join(d, "out"))


def parse_time_v(path: str) -> dict:
    r = {}
    try:
        with open(path) as f:
            txt = f.read()
    except OSError:
        return r
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    if m:
        r["max_rss_mb"] = int(m.group(1)) / 1024
    u = re.search(r"User time \(seconds\): ([\d.]+)", txt)
    s = re.search(r"System time \(seconds\): ([\d.]+)", txt)
    if u and s:
        r["cpu_s"] = float(u.group(1)) + float(s.group(1))
        r["sys_s"] = float(s.group(1))
    return r


def _expire(pid: int, expired: threading.Event) -> None:
    """The timeout's timer: kill the tool's whole process group."""
    expired.set()
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_cmd(entry, argv, env, timeout, out_name="tool.out"):
    """Run argv in the entry dir; return (status, wall, extra, tail)."""
    d = entry["dir"]
    use_time = os.access(TIME, os.X_OK)
    tf = os.path.join(d, ".bench.time")
    full = ([TIME, "-v", "-o", tf] if use_time else []) + argv
    outp = os.path.join(d, out_name)
    with open(outp, "wb") as out:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(full, cwd=d, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            return "fail", 0.0, {}, str(e)
        # A blocking wait returns the moment the tool exits; `wait(timeout=)` polls with sleeps of up to
        # 50 ms, which rounded every wall time up to the next 50 ms step. The timeout is a timer instead.
        expired = threading.Event()
        timer = threading.Timer(timeout, _expire, (p.pid, expired))
        timer.start()
        try:
            rc = p.wait()
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        if expired.is_set():
            status = "timeout"
        else:
            status = "ok" if rc == 0 else f"fail(rc={rc})"
    extra = parse_time_v(tf) if use_time and status != "timeout" else {}
    if os.path.exists(tf):
        os.unlink(tf)
    tail = ""
    if status != "ok":
        try:
            with open(outp, "rb") as f:
                f.seek(max(0, os.path.getsize(outp) - 600))
                tail = f.read().decode("utf8", "replace").strip().replace("\n", " | ")
        except OSError:
            pass
    return status, wall, extra, tail


def read_log(entry) -> list[str]:
    try:
        with open(entry["log"]) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def verify(entry, spec, lines) -> str | None:
    """None if tasks.log is right for this mode, else a message."""
    if entry["mode"] in ("rerun", "plan"):
        return None if not lines else f"{len(lines)} tasks ran, expected 0"
    if entry["mode"] == "resume":
        n = spec["pending"]
        return None if len(lines) == n else f"{len(lines)} tasks ran, expected the {n} not done"
    exp = gen.expected_log(spec)
    if spec["kind"] == "chain":
        if lines != exp:
            return f"chain log wrong: {len(lines)} lines, expected {len(exp)} in order"
        return None
    if Counter(lines) != Counter(exp):
        c = Counter(lines)
        dup = sum(v - 1 for v in c.values() if v > 1)
        return f"log has {len(lines)} lines ({len(c)} distinct, {dup} dup), expected {len(exp)}"
    return None


def reset_resume(entry):
    """Undo what the last run of a `resume` workload did: remove each path its tasks logged making (a job
    directory or an output file), so the next run starts from the same mostly done state."""
    starts = entry["starts"]
    if os.path.exists(starts):
        with open(starts) as f:
            made = [line.split(None, 1)[1].strip() for line in f if line.strip()]
        for path in made:
            if not path.startswith(entry["dir"] + os.sep):
                continue
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)
        os.unlink(starts)
    if os.path.exists(entry["log"]):
        os.unlink(entry["log"])


def first_start(entry, since: float) -> float | None:
    """Seconds from `since` (the command's start) to the earliest start a task logged."""
    try:
        with open(entry["starts"]) as f:
            times = [float(line.split(None, 1)[0]) for line in f if line.strip()]
    except (OSError, ValueError):
        return None
    return min(times) - since if times else None


def fill(cmd, jobs, subst):
    argv = [a.replace("{jobs}", str(jobs)).replace("{python}", subst["python"])
            .replace("{doit_par}", subst["doit_par"]).replace("{hm_python}", subst["hm_python"]) for a in cmd]
    if argv and argv[0] == "hypermetric":
        argv[0] = subst["hypermetric"]
    return argv


_PROBES = {"n": 0}


def fs_probe(entry: dict) -> float | None:
    """How dear making a file is on this disk right now: the median time, in microseconds, of creating each of
    `FS_PROBE_FILES` empty files in a fresh folder beside the run's outputs (moved away with them by the next
    clean()). Right after a large deletion this can be several times its usual value (see clean()), and every
    tool pays it per file it makes: a run's wall time is comparable with another's only at a similar value."""
    _PROBES["n"] += 1
    d = os.path.join(entry["dir"], f".fsprobe-{_PROBES['n']}")
    times = []
    try:
        os.mkdir(d)
        for i in range(FS_PROBE_FILES):
            t = time.perf_counter()
            fd = os.open(os.path.join(d, str(i)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            times.append(time.perf_counter() - t)
            os.close(fd)
    except OSError:
        return None
    return statistics.median(times) * 1e6


def load1() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine_info() -> dict:
    info = {"nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_gb"] = round(int(line.split()[1]) / 2 ** 20, 1)
                    break
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------
# tables

def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def med_of(rows, field):
    v = [float(r[field]) for r in rows if r["status"] == "ok" and r.get(field)]
    return statistics.median(v) if v else None


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x" if x < 10 else f"{x:.1f}x" if x < 100 else f"{x:.0f}x"


def ratio(a, b):
    return a / b if a is not None and b else None


FULL_TASKS = {wl: gen.n_tasks(spec) for wl, spec in gen.WORKLOADS.items()}
GOALS = [
    # (workload, label, kind, threshold): kind 'floor' = hm <= thr x threadpool,
    # 'faster' = snakemake >= thr x hm, 'abs' = hm <= thr seconds
    ("w0", "w0 start-up at most 0.15 s", "abs", 0.15),
    ("w1", "w1 fan-out within 1.15x of the thread-pool floor", "floor", 1.15),
    ("w1", "w1 fan-out at least 10x faster than Snakemake", "faster", 10.0),
    ("w2", "w2 chain within 1.3x of the thread-pool floor", "floor", 1.3),
    ("w3", "w3 tensor within 1.15x of the thread-pool floor", "floor", 1.15),
    ("w4", "w4 cached re-run at most 0.15 s", "abs", 0.15),
    ("w5", "w5 dry-run of the 10^5-case tensor at most 1 s", "abs", 1.0),
    ("w6", "w6 dry-run of the 10^6-case tensor at most 10 s", "abs", 10.0),
]


def render_hm(by, med, cpu, wls, tools, ntask, title, mode, w):
    """Ratio and goal tables for the hypermetric columns present."""
    subjects = [t for t in SUBJECTS if t in tools and any(med.get((wl, t)) for wl in wls)]
    bases = [t for t in BASES if t in tools]
    for subj in subjects:
        w(f"### {subj} against the others (ratio of median wall times; below 1: {subj} is faster)")
        w()
        w(f"| workload | tasks | {subj} (s) | per task (ms) | "
          + " | ".join(f"/ {b}" for b in bases) + " |")
        w("|---|---:|---:|---:|" + "---:|" * len(bases))
        for wl in wls:
            a = med.get((wl, subj))
            if a is None:
                disp, _ = cell_summary(by.get((wl, subj), []))
                w(f"| {wl} {title[wl]} | {ntask[wl]} | {disp} | - | " + " | ".join("-" for _ in bases) + " |")
                continue
            if wl == "w0":
                pt = "-"
            elif mode.get(wl) == "run":
                b0 = med.get(("w0", subj))
                pt = "-" if b0 is None else f"{(a - b0) / ntask[wl] * 1000:.2f}"
            else:
                pt = f"{a / ntask[wl] * 1000:.3f}"
            w(f"| {wl} {title[wl]} | {ntask[wl]} | {fmt_s(a)} | {pt} | "
              + " | ".join(fmt_ratio(ratio(a, med.get((wl, b)))) for b in bases) + " |")
        w()
    if "hypermetric" not in subjects:
        return
    w("### hypermetric against the goals")
    w()
    if any(ntask[wl] != FULL_TASKS.get(wl, ntask[wl]) for wl in wls):
        w("(Not the full sizes: the goals are stated for the default sizes, so this")
        w("table is only a check that the harness works.)")
        w()
    w("| goal | measured (wall) | same with CPU time (user+sys, children included) | met? |")
    w("|---|---:|---:|---|")
    for wl, label, kind, thr in GOALS:
        if wl not in wls:
            continue
        hm, hmc = med.get((wl, "hypermetric")), cpu.get((wl, "hypermetric"))
        if kind == "floor":
            r, rc = ratio(hm, med.get((wl, "threadpool"))), ratio(hmc, cpu.get((wl, "threadpool")))
            m, mc, ok = fmt_ratio(r) + (" of the floor" if r else ""), fmt_ratio(rc), r is not None and r <= thr
        elif kind == "faster":
            r, rc = ratio(med.get((wl, "snakemake")), hm), ratio(cpu.get((wl, "snakemake")), hmc)
            m, mc, ok = fmt_ratio(r) + (" faster" if r else ""), fmt_ratio(rc), r is not None and r >= thr
        else:
            r = None
            m = "-" if hm is None else f"{fmt_s(hm)} s"
            mc = "-" if hmc is None else f"{fmt_s(hmc)} s"
            ok = hm is not None and hm <= thr
        have = hm is not None and (kind == "abs" or r is not None)
        verdict = ("yes" if ok else "**no**") if have else "n/a"
        w(f"| {label} | {m} | {mc} | {verdict} |")
    w()


def render_first_jobs(by, wls, tools, title, w):
    """For the resume workloads (w7): median seconds from the command's start to its first task's start, and
    median peak memory."""
    first = {k: med_of(rs, "first_job_s") for k, rs in by.items()}
    resumed = [wl for wl in wls if any(first.get((wl, t)) is not None for t in tools)]
    if not resumed:
        return
    w("### Time to the first job (s) and peak memory (MB), median")
    w()
    w("| workload | " + " | ".join(tools) + " |")
    w("|---|" + "---:|" * len(tools))
    for wl in resumed:
        cells = []
        for t in tools:
            f, rss = first.get((wl, t)), med_of(by.get((wl, t), []), "max_rss_mb")
            cells.append("-" if f is None else f"{fmt_s(f)} ({rss:.0f} MB)" if rss else fmt_s(f))
        w(f"| {wl} {title[wl]} | " + " | ".join(cells) + " |")
    w()


def cell_summary(rows):
    """rows of one (workload, tool) -> (display, median_wall or None)."""
    if not rows:
        return "-", None
    oks = [float(r["wall_s"]) for r in rows if r["status"] == "ok"]
    bad = [r for r in rows if r["status"] != "ok"]
    if bad and not oks:
        st = bad[0]["status"]
        if st == "timeout":
            return f"timeout (>{float(bad[0]['wall_s']):.0f}s)", None
        return st, None
    med = statistics.median(oks)
    disp = fmt_s(med)
    if bad:
        disp += f" ({len(bad)} bad)"
    return disp, med


def _mode_of(wl, title_):
    if title_.startswith("no-op rerun"):
        return "rerun"
    if title_.startswith("run of ") and title_.endswith(" done"):
        return "resume"
    if title_.startswith("dry-run"):
        return "plan"
    return "run"


def render(rows, tools_order=None, file=sys.stdout):
    wls = sorted({r["workload"] for r in rows})
    tools = list(tools_order or [])
    for r in rows:
        if r["tool"] not in tools:
            tools.append(r["tool"])
    if not tools_order:
        known = {t: i for i, t in enumerate(gen.TOOLS)}
        tools.sort(key=lambda t: known.get(t, len(known)))
    by = {}
    for r in rows:
        by.setdefault((r["workload"], r["tool"]), []).append(r)
    title = {r["workload"]: r["title"] for r in rows}
    ntask = {r["workload"]: int(r["n_tasks"]) for r in rows}
    mode = {r["workload"]: r.get("mode") or _mode_of(r["workload"], r["title"]) for r in rows}
    med = {}
    def w(s=""):
        print(s, file=file)

    w("### Median wall time (s)")
    w()
    w("| workload | tasks | " + " | ".join(tools) + " |")
    w("|---|---:|" + "---:|" * len(tools))
    for wl in wls:
        cells = []
        for t in tools:
            disp, m = cell_summary(by.get((wl, t), []))
            med[(wl, t)] = m
            cells.append(disp)
        w(f"| {wl} {title[wl]} | {ntask[wl]} | " + " | ".join(cells) + " |")
    w()
    # per-task cost: for workloads that execute tasks, subtract the tool's
    # startup (w0 = one task) so the figure is the marginal cost of a task;
    # for rerun/plan workloads nothing executes and their fixed cost differs
    # from w0's, so report the plain total / tasks (an upper bound).
    w("### Per-task overhead (ms)")
    w()
    w("Executing workloads (w1-w3): (median(wN) - median(w0)) / tasks, i.e. the marginal")
    w("cost of one task at -j given, spawn of its bash process included.")
    w("No-op rerun and plan workloads (w4, w5): median(wN) / tasks, startup included.")
    w()
    w("| workload | formula | " + " | ".join(tools) + " |")
    w("|---|---|" + "---:|" * len(tools))
    for wl in wls:
        if wl == "w0":
            continue
        sub = mode.get(wl) == "run"
        if sub and "w0" not in wls:
            continue
        cells = []
        for t in tools:
            a, b = med.get((wl, t)), (med.get(("w0", t)) if sub else 0.0)
            if a is None or b is None:
                cells.append("-")
            else:
                v = (a - b) / ntask[wl] * 1000
                cells.append(f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}")
        w(f"| {wl} {title[wl]} | {'(wN-w0)/n' if sub else 'wN/n'} | " + " | ".join(cells) + " |")
    w()
    render_first_jobs(by, wls, tools, title, w)
    cpu = {}
    w("### Median CPU time (s): user+sys of the tool and every process it waited for")
    w()
    w("Less sensitive than wall time to other load on the machine; it includes the")
    w("tasks' own bash processes (the same work for every tool) but not daemons a")
    w("tool does not wait for (Ray's raylet/GCS).")
    w()
    w("| workload | " + " | ".join(tools) + " |")
    w("|---|" + "---:|" * len(tools))
    for wl in wls:
        cells = []
        for t in tools:
            v = med_of(by.get((wl, t), []), "cpu_s")
            cpu[(wl, t)] = v
            cells.append("-" if v is None else fmt_s(v))
        w(f"| {wl} | " + " | ".join(cells) + " |")
    w()
    render_hm(by, med, cpu, wls, tools, ntask, title, mode, w)
    w("### Spread of wall time: min-max over the reps (s)")
    w()
    w("| workload | " + " | ".join(tools) + " |")
    w("|---|" + "---:|" * len(tools))
    for wl in wls:
        cells = []
        for t in tools:
            v = [float(r["wall_s"]) for r in by.get((wl, t), []) if r["status"] == "ok"]
            cells.append(f"{fmt_s(min(v))}-{fmt_s(max(v))} (n={len(v)})" if v else "-")
        w(f"| {wl} | " + " | ".join(cells) + " |")
    w()
    w("### Median peak RSS (MB, largest single process, /usr/bin/time -v)")
    w()
    w("| workload | " + " | ".join(tools) + " |")
    w("|---|" + "---:|" * len(tools))
    for wl in wls:
        cells = []
        for t in tools:
            v = [float(r["max_rss_mb"]) for r in by.get((wl, t), [])
                 if r["status"] == "ok" and r["max_rss_mb"]]
            cells.append(f"{statistics.median(v):.0f}" if v else "-")
        w(f"| {wl} | " + " | ".join(cells) + " |")
    w()
    vers = {}
    for r in rows:
        vers.setdefault(r["tool"], r["version"])
    w("Versions: " + "; ".join(f"{t}: {vers[t]}" for t in tools))
    loads = [float(r["load1"]) for r in rows if r.get("load1")]
    if loads:
        w()
        w(f"1-minute load average before each run: min {min(loads):.2f}, "
          f"median {statistics.median(loads):.2f}, max {max(loads):.2f}")
    probes = [float(r["fs_probe_us"]) for r in rows if r.get("fs_probe_us")]
    if probes:
        w()
        w(f"Making a file before each run (`fs_probe_us`): min {min(probes):.1f} us, "
          f"median {statistics.median(probes):.1f}, max {max(probes):.1f}")
    notes = {}
    for r in rows:
        if r["note"]:
            wl_list = notes.setdefault((r["tool"], r["status"], r["note"]), [])
            if r["workload"] not in wl_list:
                wl_list.append(r["workload"])
    if notes:
        w()
        w("Notes:")
        for (t, st, n), wl_list in sorted(notes.items(), key=lambda kv: (kv[1][0], kv[0])):
            w(f"- {','.join(wl_list)} {t} [{st}]: {n[:300]}")


# --------------------------------------------------------------------------

def machine_line(date, a, mach, meta, tools_info, tools, total, loads) -> str:
    vers = {t: tools_info[t]["version"] for t in tools}
    s = (f"Results {date}: {a.reps} reps, -j{a.jobs}{' (quick sizes)' if a.quick else ''}; "
         f"machine: {mach.get('nproc')} cores ({mach.get('cpu', '?')}), "
         f"{mach.get('mem_gb', '?')} GB, {mach.get('platform')}; "
         f"python {meta['python']} (hypermetric's: {meta['hypermetric_python']}), bash {meta['bash']}; "
         + "; ".join(f"{t}: {v}" for t, v in vers.items() if t != "snakemake-greedy")
         + f"; total {total:.0f}s")
    if loads:
        s += (f"; 1-min load average before each run: median {statistics.median(loads):.2f} "
              f"(min {min(loads):.2f}, max {max(loads):.2f})")
    return s


def default_out(date: str) -> str:
    base = os.path.join(HERE, "results", f"compare-{date}")
    p, k = base + ".csv", 2
    while os.path.exists(p):
        p, k = f"{base}-{k}.csv", k + 1
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", "-n", type=int, default=3)
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--tools", default=",".join(gen.TOOLS))
    ap.add_argument("--workloads", default=",".join(gen.WORKLOADS))
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--workdir", help="scratch dir (default: new /tmp/hmbench-*)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir")
    ap.add_argument("--peers-venv", default=os.environ.get("BENCH_PEERS_VENV", "/tmp/benchpeers"))
    ap.add_argument("--doit-parallel", choices=["thread", "process"], default="thread")
    ap.add_argument("--plan-timeout", type=float, default=300)
    ap.add_argument("--run-timeout", type=float, default=600)
    ap.add_argument("--setup-timeout", type=float, default=3600,
                    help="for the untimed setup of a resume workload (w7: a million job directories)")
    ap.add_argument("--out", help="CSV path (default bench/results/compare-<date>.csv)")
    ap.add_argument("--hypermetric", default=os.environ.get("HYPERMETRIC_BIN"),
                    help="hypermetric executable (default: <repo>/.venv/bin/hypermetric, then PATH)")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the untimed start-up run of every tool before the timed ones")
    ap.add_argument("--report", nargs="+", metavar="CSV",
                    help="only print the tables for existing CSV file(s)")
    a = ap.parse_args(argv)

    if a.report:
        # Several files: a (workload, tool) cell comes from the last file that
        # has it with a status other than "missing" (so a later, partial run
        # overrides those cells of an earlier one and keeps the rest).
        cells: dict = {}
        for p in a.report:
            with open(p) as f:
                file_rows: dict = {}
                for r in csv.DictReader(f):
                    file_rows.setdefault((r["workload"], r["tool"]), []).append(r)
            for key, rs in file_rows.items():
                if key not in cells or any(r["status"] != "missing" for r in rs):
                    cells[key] = rs
        rows = [r for rs in cells.values() for r in rs]
        if len(a.report) > 1:
            print("Merged from " + ", ".join(os.path.basename(p) for p in a.report)
                  + " (a cell comes from the last file that ran it).\n")
        render(rows)
        return 0

    tools = [t for t in a.tools.split(",") if t]
    hm = find_hypermetric(a.hypermetric)
    env = tool_env(a.peers_venv, hm)
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    tools_info, meta = discover(env, a.peers_venv, a.doit_parallel, hm,
                                probe_ray="hypermetric-ray" in tools)
    for t in tools:
        if t not in gen.GENERATORS:
            ap.error(f"unknown tool {t}")
    workloads = [w for w in a.workloads.split(",") if w]
    date = dt.date.today().isoformat()
    out_csv = a.out or default_out(date)
    os.makedirs(os.path.dirname(os.path.abspath(out_csv)), exist_ok=True)
    workdir = a.workdir or tempfile.mkdtemp(prefix="hmbench-")
    manifest = gen.generate(workdir, tools, workloads, a.quick)
    specs = manifest["workloads"]
    entries = {(e["workload"], e["tool"]): e for e in manifest["entries"]}

    print(f"# workdir {workdir}; reps {a.reps}; jobs {a.jobs}; quick={a.quick}", file=sys.stderr)
    for t in tools:
        print(f"#   {t:16} {tools_info[t]['version']}", file=sys.stderr)
    if "hypermetric-ray" in tools:
        print(f"#   hypermetric-ray probe: {meta['hypermetric_ray_probe']}", file=sys.stderr)

    rows = []
    f = open(out_csv, "w", newline="")
    wr = csv.DictWriter(f, fieldnames=FIELDS)
    wr.writeheader()

    def record(wl, tool, rep, status, wall=None, extra=None, note="", load=None, first=None, probe=None):
        spec = specs[wl]
        extra = extra or {}
        row = {"date": date, "tool": tool, "version": tools_info[tool]["version"],
               "workload": wl, "title": spec["title"], "mode": spec["mode"],
               "n_tasks": spec["n_tasks"],
               "jobs": a.jobs, "rep": rep, "status": status,
               "wall_s": f"{wall:.4f}" if wall is not None else "",
               "max_rss_mb": f"{extra['max_rss_mb']:.1f}" if "max_rss_mb" in extra else "",
               "cpu_s": f"{extra['cpu_s']:.2f}" if "cpu_s" in extra else "",
               "sys_s": f"{extra['sys_s']:.2f}" if "sys_s" in extra else "",
               "load1": f"{load:.2f}" if load is not None else "",
               "fs_probe_us": f"{probe:.1f}" if probe is not None else "",
               "first_job_s": f"{first:.3f}" if first is not None else "",
               "note": note}
        rows.append(row)
        wr.writerow(row)
        f.flush()
        print(f"{wl} {tool:16} rep{rep} {status:10} "
              f"{row['wall_s'] or '':>9}s rss={row['max_rss_mb'] or '-':>7}MB {note[:150]}",
              file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    if not a.no_warmup:
        # one untimed single-task run per tool: byte-code cache, page cache,
        # Ray's first-start files; its result is only shown, never recorded
        wm = gen.generate(os.path.join(workdir, "warmup"), tools, ["w0"], a.quick)
        for e in wm["entries"]:
            if not tools_info[e["tool"]]["available"]:
                continue
            clean(e)
            st, wall, _, _ = run_cmd(e, fill(e["prime"], a.jobs, meta["subst"]), env, a.run_timeout)
            print(f"warm-up {e['tool']:16} {st:10} {wall:9.4f}s", file=sys.stderr, flush=True)
    for wl in workloads:
        spec = specs[wl]
        timeout = a.plan_timeout if spec["mode"] == "plan" else a.run_timeout
        dead = set()   # cells that timed out / failed: skip further reps
        active = []
        for tool in tools:
            e = entries[(wl, tool)]
            if not tools_info[tool]["available"]:
                record(wl, tool, 0, "missing", note=tools_info[tool].get("probe", ""))
                continue
            if e["cmd"] is None:
                record(wl, tool, 0, "n/a", note=e["na_note"])
                continue
            if spec["mode"] == "rerun":
                # prime: one untimed full run, which must itself be right
                clean(e)
                st, wall, _, tail = run_cmd(e, fill(e["prime"], a.jobs, meta["subst"]),
                                            env, a.run_timeout, "prime.out")
                msg = verify(dict(e, mode="run"), spec, read_log(e))
                if st != "ok" or msg:
                    record(wl, tool, 0, "wrong" if st == "ok" else st, wall,
                           note="priming run failed: " + (msg if st == "ok" else tail))
                    continue
            if spec["mode"] == "resume":
                # setup: every job but the last `pending` made done, untimed (once: each rep undoes its run)
                clean(e)
                st, wall, _, tail = run_cmd(e, fill(e["setup"], a.jobs, meta["subst"]), env,
                                            a.setup_timeout, "setup.out")
                if st != "ok":
                    record(wl, tool, 0, st, wall, note="setup failed: " + tail)
                    continue
            active.append(tool)
        for rep in range(1, a.reps + 1):
            for tool in active:
                if tool in dead:
                    continue
                e = entries[(wl, tool)]
                if spec["mode"] == "rerun":
                    if os.path.exists(e["log"]):
                        os.unlink(e["log"])
                elif spec["mode"] == "resume":
                    reset_resume(e)
                else:
                    clean(e)
                probe = fs_probe(e)
                load = load1()
                since = time.time()
                st, wall, extra, tail = run_cmd(e, fill(e["cmd"], a.jobs, meta["subst"]),
                                                env, timeout)
                first = first_start(e, since) if spec["mode"] == "resume" else None
                note = tail if st != "ok" or first is None else f"first job started after {first:.2f}s"
                if st == "ok":
                    msg = verify(e, spec, read_log(e))
                    if msg:
                        st, note = "wrong", msg
                if st != "ok":
                    dead.add(tool)
                if st == "timeout":
                    note = f"killed after {timeout:.0f}s; remaining reps skipped"
                record(wl, tool, rep, st, wall, extra, note, load, first, probe)
    f.close()
    # write the whole CSV again from memory (through a temporary file and a
    # rename): the file written row by row above is for watching a long run,
    # and it may have been removed or truncated by something else meanwhile
    tmp_csv = out_csv + ".tmp"
    with open(tmp_csv, "w", newline="") as f2:
        w2 = csv.DictWriter(f2, fieldnames=FIELDS)
        w2.writeheader()
        w2.writerows(rows)
    os.replace(tmp_csv, out_csv)
    total = time.perf_counter() - t_start

    rel = os.path.relpath(os.path.abspath(out_csv), REPO)
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None
    loads = [float(r["load1"]) for r in rows if r["load1"]]
    probes = [float(r["fs_probe_us"]) for r in rows if r["fs_probe_us"]]
    mach = machine_info()
    info = {"date": date, "csv": out_csv if rel.startswith("..") else rel, "reps": a.reps, "jobs": a.jobs,
            "quick": a.quick, "workloads": specs, "python": meta["python"],
            "hypermetric_python": meta["hypermetric_python"], "hypermetric_path": meta["hypermetric_path"],
            "hypermetric_ray_probe": meta["hypermetric_ray_probe"] if "hypermetric-ray" in tools else None,
            "bash": meta["bash"], "versions": {t: tools_info[t]["version"] for t in tools},
            "commands": {f"{e['workload']}/{e['tool']}": fill(e["cmd"], a.jobs, meta["subst"])
                         for e in manifest["entries"] if e["cmd"]},
            "machine": mach,
            "load_average": {"start": load_start, "end": load_end,
                             "per_run_load1": {"min": min(loads), "median": statistics.median(loads),
                                               "max": max(loads)} if loads else None},
            "per_run_fs_probe_us": {"min": min(probes), "median": statistics.median(probes),
                                    "max": max(probes)} if probes else None,
            "plan_timeout_s": a.plan_timeout, "run_timeout_s": a.run_timeout,
            "total_s": round(total, 1)}
    with open(os.path.splitext(out_csv)[0] + ".meta.json", "w") as mf:
        json.dump(info, mf, indent=1)
    md_path = os.path.splitext(out_csv)[0] + ".md"
    with open(md_path, "w") as mf:
        print(machine_line(date, a, mach, meta, tools_info, tools, total, loads) + "\n", file=mf)
        render(rows, list(tools), mf)
    print(f"Results {date}: {a.reps} reps, -j{a.jobs}, total {total:.0f}s; csv {out_csv}\n")
    render(rows, list(tools))
    if not a.keep and not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:   # keep the last outputs of each cell, drop the moved-away ones
        for t in (os.path.join(workdir, ".trash"), os.path.join(workdir, "warmup", ".trash")):
            shutil.rmtree(t, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
