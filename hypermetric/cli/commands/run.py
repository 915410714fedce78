"""`run`: run every job the targets need that is not done yet (never prompts; shows progress)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
from hypermetric.cli.signals import exit_code as interrupted_exit_code
from hypermetric.errors import UsageError

JobsOpt = Annotated[Optional[int], typer.Option("-j", "--jobs", min=1,
                                                help="Jobs to run at once (default 1; on Ray, as many as the "
                                                     "cluster's resources allow).")]
RAY_UNBOUNDED = 1_000_000  # on Ray the cluster's resources, not -j, limit how many jobs run at once
KeepGoingOpt = Annotated[bool, typer.Option("-k", "--keep-going", help="Go on after a failure (skip its dependents).")]
SilentOpt = Annotated[bool, typer.Option("-s", "--silent", help="Job output only to the jobs' stdout/stderr files.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="auto, local or ray.")]
RayAddressOpt = Annotated[Optional[str], typer.Option("--ray-address", help="Join this Ray cluster.")]
RetriesOpt = Annotated[int, typer.Option("--retries", help="Re-run a failed job up to N more times.", min=0)]
IgnoreChangesOpt = Annotated[bool, typer.Option("--ignore-changes",
                                                help="Treat finished jobs as done even when what they were made "
                                                     "from has changed (HyperMake's rule), for this run.")]
GraceOpt = Annotated[float, typer.Option("--grace", min=0.0, hidden=True,
                                         help="Seconds between SIGTERM and SIGKILL when jobs are stopped.")]


def register(app: typer.Typer) -> None:
    command(app, "run", "Run what the targets need that is not done yet.", yes=True)(cmd_run)


def cmd_run(c: Common, jobs: JobsOpt = None, keep_going: KeepGoingOpt = False, silent: SilentOpt = False,
            backend: BackendOpt = "auto", ray_address: RayAddressOpt = None, retries: RetriesOpt = 0,
            grace: GraceOpt = 5.0, ignore_changes: IgnoreChangesOpt = False) -> int:
    from hypermetric.execution.engine import RunOptions, run_graph

    if backend not in ("auto", "local", "ray"):
        raise UsageError(f"unknown backend `{backend}`", help="use --backend auto, local or ray")
    if ray_address:
        os.environ["RAY_ADDRESS"] = ray_address
    # Jobs that call back into hypermetric (the stdlib `table` module) use the Python it runs in.
    os.environ.setdefault("HYPERMETRIC_PYTHON", sys.executable)
    asked_jobs = jobs
    if jobs is None:
        on_ray = backend == "ray" or (backend == "auto" and bool(os.environ.get("RAY_ADDRESS")))
        jobs = RAY_UNBOUNDED if on_ray else 1
    s = open_session(c)
    graph = s.plan()
    machines = getattr(getattr(s.pipeline, "config", None), "machines", ())
    if machines and backend == "auto":  # a batch file's `backend: {type: remote, machines: [...]}`
        from hypermetric.execution.remote import total_slots

        backend, jobs = "remote", min(asked_jobs or total_slots(machines), total_slots(machines))
    options = RunOptions(jobs=jobs, keep_going=keep_going, retries=retries, shell=s.shell_words(),
                         silent=silent, verbose=c.verbose, backend=backend, grace=grace,
                         ignore_changes=ignore_changes, machines=machines)
    from hypermetric.cli.console import make_console
    from hypermetric.cli.progress import Progress

    with Progress(make_console(c.color), silent=silent, verbose=c.verbose, live=sys.stdout.isatty()) as view:
        report = run_graph(graph, options, view.handle)
    return interrupted_exit_code() if report.interrupted else report.exit_code
