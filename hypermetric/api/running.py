"""`run`: run the jobs of a planned graph with typed options, on the backend the options choose."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from hypermetric.errors import UsageError
from hypermetric.execution.choice import RAY_UNBOUNDED, choose_backend, cluster_address

if TYPE_CHECKING:  # types only: choosing options imports neither the engine nor the remote backend's config
    from hypermetric.execution.backend import Backend
    from hypermetric.execution.events import Event
    from hypermetric.execution.remote_config import Machine
    from hypermetric.execution.report import RunReport
    from hypermetric.plan.graph import JobGraph
    from hypermetric.semantics.pipeline import Pipeline

BackendName = Literal["auto", "local", "ray", "remote"]
BACKENDS: tuple[str, ...] = ("auto", "local", "ray", "remote")


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How `run` runs a graph (the options of `hypermetric run`).

    `jobs`: jobs at once (None: 1 locally, as many as the cluster's resources allow on Ray, the machines'
    slots on `remote`). `backend`: `auto` picks `remote` when `machines` are given, `ray` when a cluster
    address is known (`ray_address`, else `RAY_ADDRESS`), else `local`; a `Backend` instance is used as it is.
    `ray_address`: the Ray cluster to join (without one, `ray` starts an embedded Ray). `machines`: SSH
    machines for `remote` (`load_machines`, or a batch file's own). `grace`: seconds between SIGTERM and
    SIGKILL when jobs are stopped. `ignore_changes`: finished jobs count as done even when what they were made
    from changed (HyperMake's rule). `record`: keep the run under `<root>/.runs` for `runs` and `diff`."""

    jobs: int | None = None
    keep_going: bool = False
    retries: int = 0
    shell: tuple[str, ...] = ("bash", "-e")
    silent: bool = False
    backend: BackendName | Backend = "auto"
    ray_address: str | None = None
    machines: tuple[Machine, ...] = ()
    grace: float = 5.0
    ignore_changes: bool = False
    record: bool = True


def run(graph: JobGraph, options: RunOptions | None = None, *,
        on_event: Callable[[Event], None] | None = None, verbose: bool = False) -> RunReport:
    """Run every job of `graph` that is not done yet (and re-run OUTDATED ones); `on_event` receives the
    execution events (`hypermetric.execution.events`) as they happen. Never raises for a failed job: the
    report says what failed (`report.exit_code` is `ExitCode.JOB_FAILED`). Ctrl-C stops the running jobs and
    leaves `report.interrupted` set. `verbose` is handed to the events' consumers and changes nothing else."""
    from hypermetric.execution.engine import RunOptions as EngineOptions
    from hypermetric.execution.engine import run_graph

    options = options or RunOptions()
    backend, jobs = _backend_and_jobs(options)
    engine = EngineOptions(jobs=jobs, keep_going=options.keep_going, retries=options.retries,
                           shell=tuple(options.shell), silent=options.silent, verbose=verbose, backend=backend,
                           grace=options.grace, ignore_changes=options.ignore_changes, record=options.record,
                           machines=options.machines if backend == "remote" else (),
                           ray_address=cluster_address(options.ray_address) if backend == "ray" else None)
    with _python_for_jobs():
        return run_graph(graph, engine, on_event)


def _backend_and_jobs(options: RunOptions) -> tuple[str | Backend, int]:
    """The backend that runs the graph, chosen once, and how many of its jobs may run at once."""
    chosen = options.backend
    if not isinstance(chosen, str):
        return chosen, options.jobs or 1
    backend_name(chosen)
    if options.machines and chosen in ("local", "ray"):
        raise UsageError(f"--machines runs jobs on SSH machines, not on the {chosen} backend",
                         help="drop --backend, or write --backend remote")
    backend = choose_backend(chosen, ray_address=options.ray_address, machines=options.machines)
    if backend == "remote":
        if not options.machines:
            raise UsageError("--backend remote needs machines to run the jobs on",
                             help="add --machines machines.json, a list of "
                                  '{"connection": {"hostname": "h", "username": "u", "key": "~/.ssh/id"}, '
                                  '"slots": 2}')
        from hypermetric.execution.remote import total_slots

        slots = total_slots(options.machines)
        return backend, min(options.jobs or slots, slots)
    return backend, options.jobs or (RAY_UNBOUNDED if backend == "ray" else 1)


def backend_name(text: str) -> BackendName:
    """`text` as a backend's name; a user error naming the choices when it is none."""
    if text not in BACKENDS:
        raise UsageError(f"unknown backend `{text}`", help="use --backend auto, local, ray or remote")
    return cast(BackendName, text)


def machines(pipeline: Pipeline, machines_file: str | None = None,
             backend: str = "auto") -> tuple[Machine, ...]:
    """The SSH machines a run of `pipeline` uses: those `machines_file` lists (JSON or YAML, as
    `run --machines`), else, when `backend` is `auto` or `remote`, a batch file's own `backend.machines`."""
    if machines_file is not None:
        from hypermetric.batch.machines import load_machines

        return load_machines(machines_file)
    if backend not in ("auto", "remote"):
        return ()
    config = getattr(pipeline, "config", None)
    return tuple(getattr(config, "machines", ()))


@contextmanager
def _python_for_jobs() -> Iterator[None]:
    """Jobs that call back into hypermetric (the stdlib `table` module) use the Python this runs in: for the
    run only, `HYPERMETRIC_PYTHON` names it unless the caller set it."""
    if "HYPERMETRIC_PYTHON" in os.environ:
        yield
        return
    os.environ["HYPERMETRIC_PYTHON"] = sys.executable
    try:
        yield
    finally:
        os.environ.pop("HYPERMETRIC_PYTHON", None)
