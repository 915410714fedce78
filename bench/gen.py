#!/usr/bin/env python3
"""Generate the benchmark workloads for every tool.

Each (workload, tool) pair gets its own directory containing the pipeline
definition written the natural way for that tool, plus an entry in a
manifest (manifest.json) that tells run.py how to run, re-run and plan it.

Workloads (default sizes; see WORKLOADS below):

  w0  startup    1 task                        (tool start-up cost, used to
                                                 compute per-task overhead)
  w1  fan-out    1000 independent tasks
  w2  chain      300 tasks, each depending on the previous one
  w3  tensor     task t over 3 params x 10 values (1000 cases) plus 10
                 reducers r, one per value of the first parameter, each
                 depending on the 100 cases with that value
  w4  rerun      w3 again with every output already up to date
  w5  plan       dry-run of a 5 params x 10 values tensor (100,000 cases +
                 10 reducers of 10,000 inputs each); nothing is executed
  w6  plan       the same at 6 params x 10 values (1,000,000 cases)
  w7  resume     `run` of the w6 tensor where all but the last 1000 jobs are
                 done (made untimed by each tool's setup: for hypermetric
                 bench/scale_setup.py, which writes what a successful job
                 leaves); every task logs its start time and path to
                 starts.log, so run.py reports the time to the first job

Every task is one bash child process that writes its small output file and
appends one line naming itself to <dir>/tasks.log (an O_APPEND write of a
few bytes, so concurrent appends do not interleave).  run.py checks that log
to prove that every task really ran exactly once (and, for w4/w5, that
nothing ran at all).  Reducers log the bare word "r" because in the
HyperMake form the reducer body has no variable naming its own index.

Tools: make, snakemake (defaults), snakemake-greedy (same Snakefile run with
`--scheduler greedy`), doit, threadpool (plain Python ThreadPoolExecutor +
subprocess, lower bound), ray (raw Ray tasks running subprocess, lower
bound), hypermetric (HyperMake-syntax .hm file run by this repository's
CLI on its local backend) and hypermetric-ray (the same .hm file and
command with `--backend ray`).

Usage:
  python3 gen.py --root /tmp/hmbench            # everything, default sizes
  python3 gen.py --root /tmp/x --quick          # tiny sizes for a smoke test
  python3 gen.py --root /tmp/x --tools make --workloads w3
"""
from __future__ import annotations

import argparse
import json
import os
import string
import sys

TOOLS = ["hypermetric", "hypermetric-ray", "make", "snakemake", "snakemake-greedy",
         "doit", "threadpool", "ray"]

# kind: fanout(n) | chain(n) | tensor(dims, vals); mode: run | rerun | plan
WORKLOADS = {
    "w0": {"kind": "fanout", "n": 1, "mode": "run",
           "title": "startup (1 task)"},
    "w1": {"kind": "fanout", "n": 1000, "mode": "run",
           "title": "fan-out 1000 independent tasks"},
    "w2": {"kind": "chain", "n": 300, "mode": "run",
           "title": "chain of 300 dependent tasks"},
    "w3": {"kind": "tensor", "dims": 3, "vals": 10, "mode": "run",
           "title": "tensor 10x10x10 + 10 reducers"},
    "w4": {"kind": "tensor", "dims": 3, "vals": 10, "mode": "rerun",
           "title": "no-op rerun of w3 (all up to date)"},
    "w5": {"kind": "tensor", "dims": 5, "vals": 10, "mode": "plan",
           "title": "dry-run of 10^5-case tensor + 10 reducers"},
    "w6": {"kind": "tensor", "dims": 6, "vals": 10, "mode": "plan", "scale": True,
           "title": "dry-run of 10^6-case tensor + 10 reducers"},
    "w7": {"kind": "tensor", "dims": 6, "vals": 10, "mode": "resume", "pending": 1000, "scale": True,
           "title": "run of 10^6-case tensor + 10 reducers, all but 1000 jobs done"},
}

QUICK = {
    "w0": {"n": 1},
    "w1": {"n": 40},
    "w2": {"n": 15},
    "w3": {"dims": 3, "vals": 3},
    "w4": {"dims": 3, "vals": 3},
    "w5": {"dims": 4, "vals": 4},
    "w6": {"dims": 4, "vals": 5},
    "w7": {"dims": 4, "vals": 5, "pending": 20},
}

# The tools run at a million cases (w6, w7): generating a million explicit rules or tasks for the others is a
# benchmark of its own, so they are left out there and their cells say so.
SCALE_TOOLS = ("hypermetric", "threadpool")
SCALE_NOTE = "not run at 10^6 cases: only hypermetric and the thread-pool floor are"

# Command templates for hypermetric, in its primary form `hypermetric COMMAND
# [FILE] [TARGET...]` (HyperMake's order `hypermetric FILE COMMAND TARGET...`
# works too).  -y: never ask for confirmation (stdin is closed here);
# `dry-run` executes nothing.  Override with the environment variables
# HYPERMETRIC_RUN / HYPERMETRIC_PLAN; placeholders {file} {target} {jobs}.
# run.py replaces a leading bare `hypermetric` with the executable it found
# (the repository's .venv/bin/hypermetric by default).  The hypermetric-ray
# column is the run template plus HYPERMETRIC_RAY_ARGS.
HM_RUN = os.environ.get("HYPERMETRIC_RUN", "hypermetric run {file} {target} -j{jobs} -y")
HM_PLAN = os.environ.get("HYPERMETRIC_PLAN", "hypermetric dry-run {file} {target}")
HM_RAY_ARGS = os.environ.get("HYPERMETRIC_RAY_ARGS", "--backend ray")


# --------------------------------------------------------------------------
# workload helpers

def n_tasks(spec: dict) -> int:
    """Number of tasks the workload defines (executed ones for run mode)."""
    if spec["kind"] in ("fanout", "chain"):
        return spec["n"]
    vals, dims = spec["vals"], spec["dims"]
    return vals ** dims + vals


def param_names(dims: int) -> list[str]:
    if dims > 26:
        raise ValueError("at most 26 tensor dimensions")
    return list(string.ascii_lowercase[:dims])


def expected_log(spec: dict) -> list[str]:
    """The lines tasks.log must contain after a full run (any order, except
    chains, which must be in order)."""
    kind = spec["kind"]
    if kind == "fanout":
        return [f"t_{i}" for i in range(spec["n"])]
    if kind == "chain":
        return [f"c_{i}" for i in range(spec["n"])]
    import itertools
    vals, dims = spec["vals"], spec["dims"]
    lines = ["t_" + "_".join(map(str, combo))
             for combo in itertools.product(range(vals), repeat=dims)]
    return lines + ["r"] * vals


def q(s: str) -> str:
    """Quote for a shell word / Python literal as needed (paths here are
    plain, but be safe)."""
    import shlex
    return shlex.quote(s)


# --------------------------------------------------------------------------
# make: generated explicit rules, SHELL=/bin/bash, order-only dir prereq

def gen_make(spec: dict, d: str, log: str) -> dict:
    kind = spec["kind"]
    L = []
    w = L.append
    w("# generated by bench/gen.py -- one explicit rule per task")
    w("SHELL := /bin/bash")
    w(".PHONY: all")
    w("")
    if kind == "fanout":
        outs = [f"out/t_{i}.txt" for i in range(spec["n"])]
        w("all: " + " ".join(outs))
        w("out:\n\tmkdir -p out")
        for i in range(spec["n"]):
            w(f"out/t_{i}.txt: | out\n\techo {i} > $@; echo t_{i} >> {log}")
    elif kind == "chain":
        n = spec["n"]
        w(f"all: out/c_{n - 1}.txt")
        w("out:\n\tmkdir -p out")
        for i in range(n):
            dep = f"out/c_{i - 1}.txt " if i else ""
            w(f"out/c_{i}.txt: {dep}| out\n\techo {i} > $@; echo c_{i} >> {log}")
    else:
        import itertools
        vals, dims = spec["vals"], spec["dims"]
        w("all: " + " ".join(f"out/r_{a}.txt" for a in range(vals)))
        w("out:\n\tmkdir -p out")
        for combo in itertools.product(range(vals), repeat=dims):
            tag = "_".join(map(str, combo))
            words = " ".join(map(str, combo))
            w(f"out/t_{tag}.txt: | out\n\techo {words} > $@; echo t_{tag} >> {log}")
        for a in range(vals):
            ins = " ".join(
                "out/t_" + "_".join(map(str, (a,) + rest)) + ".txt"
                for rest in itertools.product(range(vals), repeat=dims - 1))
            w(f"out/r_{a}.txt: {ins} | out\n\tcat $^ > $@; echo r >> {log}")
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("\n".join(L) + "\n")
    return {
        "inputs": ["Makefile"],
        "run": ["make", "-f", "Makefile", "-j{jobs}", "all"],
        "plan": ["make", "-f", "Makefile", "-n", "all"],
    }


# --------------------------------------------------------------------------
# snakemake: wildcards + expand (+ an input function for the chain)

def gen_snakemake(spec: dict, d: str, log: str) -> dict:
    kind = spec["kind"]
    L = ["# generated by bench/gen.py", f"LOG = {log!r}", ""]
    w = L.append
    if kind == "fanout":
        w(f"N = {spec['n']}")
        w('wildcard_constraints:\n    i=r"\\d+"\n')
        w('rule all:\n    input: expand("out/t_{i}.txt", i=range(N))\n')
        w('rule t:\n    output: "out/t_{i}.txt"\n'
          '    shell: "echo {wildcards.i} > {output}; echo t_{wildcards.i} >> {LOG}"\n')
    elif kind == "chain":
        w(f"N = {spec['n']}")
        w('wildcard_constraints:\n    i=r"\\d+"\n')
        w("def prev(wc):\n    i = int(wc.i)\n"
          '    return [f"out/c_{i - 1}.txt"] if i > 0 else []\n')
        w('rule all:\n    input: f"out/c_{N - 1}.txt"\n')
        w('rule c:\n    input: prev\n    output: "out/c_{i}.txt"\n'
          '    shell: "echo {wildcards.i} > {output}; echo c_{wildcards.i} >> {LOG}"\n')
    else:
        ps = param_names(spec["dims"])
        w(f"V = list(range({spec['vals']}))")
        w("wildcard_constraints:\n" + "\n".join(f'    {p}=r"\\d+",' for p in ps) + "\n")
        w('rule all:\n    input: expand("out/r_{a}.txt", a=V)\n')
        pat = "out/t_" + "_".join(f"{{{p}}}" for p in ps) + ".txt"
        words = " ".join(f"{{wildcards.{p}}}" for p in ps)
        tag = "_".join(f"{{wildcards.{p}}}" for p in ps)
        w(f'rule t:\n    output: "{pat}"\n'
          f'    shell: "echo {words} > {{output}}; echo t_{tag} >> {{LOG}}"\n')
        rpat = "out/t_{{a}}_" + "_".join(f"{{{p}}}" for p in ps[1:]) + ".txt"
        kw = ", ".join(f"{p}=V" for p in ps[1:])
        w(f'rule r:\n    input: expand("{rpat}", {kw})\n    output: "out/r_{{a}}.txt"\n'
          '    shell: "cat {input} > {output}; echo r >> {LOG}"\n')
    with open(os.path.join(d, "Snakefile"), "w") as f:
        f.write("\n".join(L) + "\n")
    return {
        "inputs": ["Snakefile"],
        "run": ["snakemake", "-s", "Snakefile", "--cores", "{jobs}"],
        "plan": ["snakemake", "-s", "Snakefile", "--cores", "{jobs}", "-n"],
    }


def gen_snakemake_greedy(spec: dict, d: str, log: str) -> dict:
    """Same Snakefile; Snakemake's non-default greedy scheduler (the default
    ILP scheduler dominates run time on many small jobs)."""
    m = gen_snakemake(spec, d, log)
    m["run"] = m["run"] + ["--scheduler", "greedy"]
    # Snakemake skips job selection entirely in a dry run, so the plan
    # workload would only repeat the default snakemake row.
    m["plan"] = None
    m["na_note"] = "same as snakemake: dry-run does no job selection"
    return m


# --------------------------------------------------------------------------
# doit: dodo.py generating the tasks in Python loops

DOIT_HEAD = '''\
# generated by bench/gen.py -- tasks generated by Python loops
import itertools
LOG = {log!r}
DOIT_CONFIG = {{"dep_file": ".doit.db"}}


def sh(script):
    # list form: doit execs bash directly (one child process per task)
    return [["bash", "-c", script]]
'''


def gen_doit(spec: dict, d: str, log: str) -> dict:
    kind = spec["kind"]
    src = DOIT_HEAD.format(log=log)
    if kind == "fanout":
        src += f'''
N = {spec['n']}


def task_t():
    for i in range(N):
        out = f"out/t_{{i}}.txt"
        # no file_dep: uptodate=[True] means "up to date while target exists"
        yield {{"name": str(i), "targets": [out], "uptodate": [True],
               "actions": sh(f"echo {{i}} > {{out}}; echo t_{{i}} >> {{LOG}}")}}
'''
    elif kind == "chain":
        src += f'''
N = {spec['n']}


def task_c():
    for i in range(N):
        out = f"out/c_{{i}}.txt"
        t = {{"name": str(i), "targets": [out],
             "actions": sh(f"echo {{i}} > {{out}}; echo c_{{i}} >> {{LOG}}")}}
        if i:
            t["file_dep"] = [f"out/c_{{i - 1}}.txt"]
        else:
            t["uptodate"] = [True]
        yield t
'''
    else:
        src += f'''
DIMS, VALS = {spec['dims']}, {spec['vals']}


def task_t():
    for combo in itertools.product(range(VALS), repeat=DIMS):
        tag = "_".join(map(str, combo))
        out = f"out/t_{{tag}}.txt"
        yield {{"name": tag, "targets": [out], "uptodate": [True],
               "actions": sh(f"echo {{' '.join(map(str, combo))}} > {{out}}; "
                             f"echo t_{{tag}} >> {{LOG}}")}}


def task_r():
    for a in range(VALS):
        ins = ["out/t_" + "_".join(map(str, (a,) + rest)) + ".txt"
               for rest in itertools.product(range(VALS), repeat=DIMS - 1)]
        out = f"out/r_{{a}}.txt"
        yield {{"name": str(a), "file_dep": ins, "targets": [out],
               "actions": sh(f"cat out/t_{{a}}_*.txt > {{out}}; echo r >> {{LOG}}")}}
'''
    with open(os.path.join(d, "dodo.py"), "w") as f:
        f.write(src)
    return {
        "inputs": ["dodo.py"],
        # -P thread: see README (process mode was measured too; thread is
        # doit's cheaper option for tasks that only spawn a subprocess)
        "run": ["doit", "-f", "dodo.py", "-n", "{jobs}", "-P", "{doit_par}"],
        "plan": ["doit", "-f", "dodo.py", "list", "--all", "--status"],
    }


# --------------------------------------------------------------------------
# threadpool / ray lower bounds: a compact spec expanded by lowerbound.py

def gen_lowerbound(executor: str):
    def gen(spec: dict, d: str, log: str) -> dict:
        s = dict(spec)
        s["log"] = log
        if spec["mode"] == "resume":
            s["starts"] = starts_log(d)
        with open(os.path.join(d, "spec.json"), "w") as f:
            json.dump(s, f)
        lb = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lowerbound.py")
        base = ["{python}", lb, "--spec", "spec.json", "--executor", executor,
                "-j", "{jobs}"]
        m = {"inputs": ["spec.json"], "run": base + ["--mode", "run"]}
        if executor == "thread":
            m["rerun"] = base + ["--mode", "rerun"]
            m["plan"] = base + ["--mode", "plan"]
            m["setup"] = base + ["--mode", "setup"]
        else:
            m["rerun"] = None  # raw Ray has no notion of up-to-date outputs
            m["plan"] = None   # ... nor of a dry run
            m["na_note"] = "raw Ray has no up-to-date check or dry run"
        return m
    return gen


# --------------------------------------------------------------------------
# hypermetric: HyperMake syntax

def hm_param(var: str, name: str, vals: int) -> str:
    return f"{var} = {{{name}: " + " ".join(str(v) for v in range(vals)) + "}"


def gen_hypermetric(spec: dict, d: str, log: str) -> dict:
    kind = spec["kind"]
    L = ["# generated by bench/gen.py (HyperMake syntax)"]
    w = L.append
    if kind == "fanout":
        w(hm_param("i", "I", spec["n"]))
        w("")
        w("task t(i=$) -> out:")
        w("  echo $i > $out")
        w(f"  echo t_$i >> {log}")
        target = "t[I: *]"
    elif kind == "chain":
        n = spec["n"]
        for i in range(n):
            args = f"prev=$c{i - 1}.out" if i else ""
            w("")
            w(f"task c{i}({args}) -> out:")
            w(f"  echo {i} > $out")
            w(f"  echo c_{i} >> {log}")
        target = f"c{n - 1}"
    else:
        ps = param_names(spec["dims"])
        for p in ps:
            w(hm_param(p, p.upper(), spec["vals"]))
        w("")
        starts = f'  echo "$(date +%s.%N) $PWD" >> {starts_log(d)}' if spec["mode"] == "resume" else None
        w("task t(" + ", ".join(f"{p}=$" for p in ps) + ") -> out:")
        if starts:
            w(starts)
        w("  echo " + " ".join(f"${p}" for p in ps) + " > $out")
        w("  echo t_" + "_".join(f"${{{p}}}" for p in ps) + f" >> {log}")
        w("")
        red = ", ".join(f"{p.upper()}: *" for p in ps[1:])
        w(f"task r(x=$t[{red}].out) -> out:")
        if starts:
            w(starts)
        w("  " + cat_all("$x/*", "$out", spec))
        w(f"  echo r >> {log}")
        target = f"r[{ps[0].upper()}: *]"
    with open(os.path.join(d, "main.hm"), "w") as f:
        f.write("\n".join(L) + "\n")
    import shlex

    def fill(tmpl):
        return [a.format(file="main.hm", target=target, jobs="{jobs}")
                for a in shlex.split(tmpl)]
    setup = ["{hm_python}", os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale_setup.py"),
             "main.hm", target, "--pending", str(spec.get("pending", 0))]
    return {"inputs": ["main.hm"], "run": fill(HM_RUN), "plan": fill(HM_PLAN),
            "target": target, "setup": setup}


def cat_all(pattern: str, out: str, spec: dict) -> str:
    """`cat PATTERN > OUT`; for a reducer of more than 10,000 files through `xargs`, since that many names
    can exceed the limit on the length of one command line."""
    if spec["vals"] ** (spec["dims"] - 1) <= 10_000:
        return f"cat {pattern} > {out}"
    return f"printf '%s\\0' {pattern} | xargs -0 cat > {out}"


def starts_log(d: str) -> str:
    """Where the tasks of a `resume` workload log `<start time> <path they made>`, one line each."""
    return os.path.join(d, "starts.log")


def gen_hypermetric_ray(spec: dict, d: str, log: str) -> dict:
    """The same .hm file and command, run on the Ray backend."""
    import shlex
    m = gen_hypermetric(spec, d, log)
    m["run"] = m["run"] + shlex.split(HM_RAY_ARGS)
    # a dry run executes nothing, so the backend plays no part in it
    m["plan"] = None
    m["na_note"] = "same as hypermetric: a dry run executes nothing, so no backend is involved"
    return m


GENERATORS = {
    "make": gen_make,
    "snakemake": gen_snakemake,
    "snakemake-greedy": gen_snakemake_greedy,
    "doit": gen_doit,
    "threadpool": gen_lowerbound("thread"),
    "ray": gen_lowerbound("ray"),
    "hypermetric": gen_hypermetric,
    "hypermetric-ray": gen_hypermetric_ray,
}


def title(spec: dict) -> str:
    """Human-readable workload description reflecting the actual sizes."""
    kind, mode = spec["kind"], spec["mode"]
    if kind == "fanout":
        return "startup (1 task)" if spec["n"] == 1 else f"fan-out {spec['n']} independent tasks"
    if kind == "chain":
        return f"chain of {spec['n']} dependent tasks"
    v, d = spec["vals"], spec["dims"]
    shape = "x".join([str(v)] * d)
    base = f"tensor {shape} ({v ** d} cases) + {v} reducers"
    if mode == "resume":
        return f"run of {base}, all but {spec['pending']} jobs done"
    if mode == "rerun":
        return "no-op rerun of " + base
    if mode == "plan":
        return "dry-run of " + base
    return base


def workload_specs(quick: bool = False) -> dict:
    specs = {}
    for k, v in WORKLOADS.items():
        s = dict(v)
        if quick:
            s.update(QUICK[k])
        s["title"] = title(s)
        specs[k] = s
    return specs


def generate(root: str, tools=None, workloads=None, quick=False) -> dict:
    """Write every (workload, tool) directory under root; return manifest."""
    root = os.path.abspath(root)
    specs = workload_specs(quick)
    tools = tools or TOOLS
    workloads = workloads or list(specs)
    manifest = {"root": root, "quick": quick, "workloads": {}, "entries": []}
    for wl in workloads:
        spec = specs[wl]
        manifest["workloads"][wl] = dict(spec, n_tasks=n_tasks(spec))
        for tool in tools:
            d = os.path.join(root, wl, tool)
            os.makedirs(d, exist_ok=True)
            log = os.path.join(d, "tasks.log")
            m = GENERATORS[tool](spec, d, log)
            mode = spec["mode"]
            cmd = m["plan"] if mode == "plan" else m.get("rerun", m["run"]) if mode in ("rerun", "resume") \
                else m["run"]
            na_note = m.get("na_note", "not applicable to this tool")
            if mode == "resume" and not m.get("setup"):
                cmd, na_note = None, "no setup that makes a tensor mostly done"
            if spec.get("scale") and tool not in SCALE_TOOLS:
                cmd, na_note = None, SCALE_NOTE
            manifest["entries"].append({
                "workload": wl, "tool": tool, "dir": d, "mode": mode,
                "inputs": m["inputs"], "log": log,
                "cmd": cmd,          # None: not applicable to this tool
                "prime": m["run"],   # run untimed before a rerun workload
                "setup": m.get("setup"),   # run untimed before a resume workload
                "starts": starts_log(d),
                "na_note": na_note,
            })
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="directory to generate into")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    a = ap.parse_args(argv)
    m = generate(a.root, a.tools.split(","), a.workloads.split(","), a.quick)
    for e in m["entries"]:
        print(f"{e['workload']:3} {e['tool']:12} {e['dir']}  {' '.join(e['cmd']) if e['cmd'] else 'n/a'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
