"""`runs` and `diff`: the runs recorded under `<root>/.runs`, and which jobs differ between two of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypermetric.errors import UsageError
from hypermetric.semantics.pipeline import Pipeline
from hypermetric.store.history import JobChange, RunInfo


@dataclass(frozen=True)
class RunDiff:
    """Runs `a` and `b`, and each job that was added, removed or changed between them, with reasons."""

    a: RunInfo
    b: RunInfo
    changes: list[JobChange]


def runs(pipeline: Pipeline) -> list[RunInfo]:
    """The runs recorded under the pipeline's output root, oldest first."""
    from hypermetric.store.history import list_runs

    return list_runs(pipeline.root)


def diff(pipeline: Pipeline, names: Sequence[str] = ()) -> RunDiff:
    """Which jobs differ between two recorded runs, and why. `names` picks them: none (the last two), one
    (it and the latest after it) or two; each a folder name under `.runs`, or a number as `runs` lists them
    (1 is the oldest, -1 the latest)."""
    from hypermetric.store.history import diff_runs, list_runs

    recorded = list_runs(pipeline.root)
    a, b = _pick(recorded, list(names))
    return RunDiff(a, b, diff_runs(pipeline.root, [r for r in recorded if r.summary is not None], a, b))


def _pick(runs: list[RunInfo], names: list[str]) -> tuple[RunInfo, RunInfo]:
    """Runs A and B: named (a folder name, or a number as `runs` lists them, negative from the end), or the
    last two."""
    if len(names) > 2:
        raise UsageError("`diff` compares two runs", help="hypermetric diff FILE [RUN_A [RUN_B]]")
    complete = [r for r in runs if r.summary is not None]
    if not names:
        if len(complete) < 2:
            raise UsageError(f"`diff` needs two recorded runs, and there {'is' if len(complete) == 1 else 'are'} "
                             f"{len(complete)}", help="`hypermetric runs FILE` lists them; each `run` records one")
        return complete[-2], complete[-1]
    chosen = [_find(runs, name) for name in names]
    if len(chosen) == 1:
        later = [r for r in complete if r.name > chosen[0].name]
        if not later:
            raise UsageError(f"no recorded run after {chosen[0].name}", help="name both runs: diff FILE A B")
        chosen.append(later[-1])
    for run in chosen:
        if run.summary is None:
            raise UsageError(f"run {run.name} did not record its jobs' signatures",
                             help="it was interrupted, or made by an older version; pick another run")
    return chosen[0], chosen[1]


def _find(runs: list[RunInfo], name: str) -> RunInfo:
    by_name = {r.name: r for r in runs}
    if name in by_name:
        return by_name[name]
    try:
        index: int | None = int(name)
    except ValueError:
        index = None
    if index is not None and runs and -len(runs) <= index <= len(runs) and index != 0:
        return runs[index - 1] if index > 0 else runs[index]
    from hypermetric.suggest import help_did_you_mean

    raise UsageError(f"no recorded run `{name}`",
                     help=help_did_you_mean(name, list(by_name)) or "`hypermetric runs FILE` lists the runs")


def describe_job_id(job_id: str) -> str:
    """A recorded job id as a target: `o/t?A=x` -> `o.t[A: x]`."""
    from hypermetric.store.runs import parse_job_id

    try:
        name, case = parse_job_id(job_id)
    except ValueError:
        return job_id
    return f"{name}[{', '.join(f'{a}: {k}' for a, k in case.items())}]" if case else name
