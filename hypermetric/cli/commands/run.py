"""`run`: run every job the targets need that is not done yet (never prompts; shows progress)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

from hypermetric import api
from hypermetric.cli import params as typer  # typer's way of declaring options, without importing typer
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
from hypermetric.cli.signals import exit_code as interrupted_exit_code

JobsOpt = Annotated[Optional[int], typer.Option("-j", "--jobs", min=1,
                                                help="Jobs to run at once (default 1; on Ray, as many as the "
                                                     "cluster's resources allow).")]
KeepGoingOpt = Annotated[bool, typer.Option("-k", "--keep-going", help="Go on after a failure (skip its dependents).")]
SilentOpt = Annotated[bool, typer.Option("-s", "--silent", help="Job output only to the jobs' stdout/stderr files.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="auto, local, ray or remote (SSH machines: see "
                                                           "--machines).")]
MachinesOpt = Annotated[Optional[str], typer.Option(
    "--machines", help="Spread the jobs over the SSH machines this JSON/YAML file lists (a batch's "
                       "`backend.machines` list); implies --backend remote.")]
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
            grace: GraceOpt = 5.0, ignore_changes: IgnoreChangesOpt = False,
            machines_file: MachinesOpt = None) -> int:
    chosen = api.backend_name(backend)
    s = open_session(c)
    graph = s.plan()
    machines = api.machines(s.pipeline, machines_file, backend)
    options = api.RunOptions(jobs=jobs, keep_going=keep_going, retries=retries, shell=s.shell_words(),
                             silent=silent, backend=chosen, ray_address=ray_address, machines=machines,
                             grace=grace, ignore_changes=ignore_changes)
    from hypermetric.cli.console import LazyConsole
    from hypermetric.cli.progress import Progress

    with Progress(LazyConsole(c.color), silent=silent, verbose=c.verbose, live=sys.stdout.isatty()) as view:
        report = api.run(graph, options, on_event=view.handle, verbose=c.verbose)
    return interrupted_exit_code() if report.interrupted else report.exit_code
