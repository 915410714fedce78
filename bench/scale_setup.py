#!/usr/bin/env python3
"""Make a tensor look mostly run: every job but the last `--pending` of the graph's order gets exactly what a
successful run leaves (its directory, its outputs, `job.json` with the planned signature, `exitcode` 0).

Running a million jobs to get there would take hours, so this writes the files directly, with the product's
own pieces: the pipeline is loaded and planned with `hypermetric.api`, each signature comes from the
`Signer`, and the record is written by the job protocol's own writer, so `hypermetric run` afterwards finds
those jobs done (not OUTDATED) and runs only the rest. Last, as a run's later commands would, one status pass
writes the status cache (`ROOT/.status/`), once the files are old enough to be cached.

Usage (from the directory that holds main.hm; the output root is the pipeline's):
  python bench/scale_setup.py main.hm TARGET --pending 1000
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def write_done(file: str, targets: list[str], pending: int) -> tuple[int, int]:
    """Give every job of the plan but the last `pending` (in the graph's order) a successful run's files;
    returns (jobs made done, jobs left)."""
    from hypermetric import api
    from hypermetric.execution.protocol import JobOptions, _record
    from hypermetric.plan.signature import Signer
    from hypermetric.record import replace

    graph = api.plan(api.load(file), targets)
    order = graph.order()
    keep = order[:max(0, len(order) - pending)]
    signer = Signer(graph)
    options = JobOptions()
    now = time.time()
    for job_id in keep:
        job = graph.jobs[job_id]
        signature = signer.signature(job_id)
        job = replace(job, signature=signature.digest, built_from=signature.built_from)
        os.makedirs(job.workdir, exist_ok=True)
        for _, rel in job.outputs:
            path = os.path.join(job.workdir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("made by scale_setup\n")
        _record(job, options, 0, 1, now, now)
    return len(keep), len(order) - len(keep)


def write_status_cache(file: str, targets: list[str]) -> None:
    """One status pass over a fresh plan, which writes the status cache; it caches only files changed more
    than its margin before it starts, so it waits that long first."""
    from hypermetric import api
    from hypermetric.store.staleness import Staleness
    from hypermetric.store.statuscache import MARGIN_NS

    time.sleep(MARGIN_NS / 1e9 + 0.1)
    for _ in Staleness(api.plan(api.load(file), targets)).each():
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("targets", nargs="+")
    ap.add_argument("--pending", type=int, default=1000, help="jobs at the end of the order left not done")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    done, left = write_done(a.file, a.targets, a.pending)
    write_status_cache(a.file, a.targets)
    print(f"{done} jobs made done, {left} left to run ({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
