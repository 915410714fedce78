"""Builders of `Job`s and `JobGraph`s under a temporary root, for the execution and store tests."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from hypermetric import percent
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import DecoratorLayer, InputLink, Job, ReductionEntry, Resources

Outputs = Sequence[str | tuple[str, str]]


def case_string(case: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{axis}={percent.encode(key)}" for axis, key in sorted(case))


def make_job(root: str | os.PathLike[str], name: str, script: str = "", *,
             case: Sequence[tuple[str, str]] = (), outputs: Outputs = ("o",),
             variables: Mapping[str, str] | Iterable[tuple[str, str]] = (), deps: Iterable[str] = (),
             inputs: Sequence[InputLink] = (), decorators: Sequence[DecoratorLayer] = (),
             ephemeral: bool = False, resources: Resources | None = None) -> Job:
    """A job `name` at `case`; each output variable holds the output's absolute path, as the planner does."""
    case = tuple(sorted(case))
    path = name.replace(".", "/")
    text = case_string(case)
    relpath = f"{path}/{text or 'default'}"
    workdir = os.path.join(os.fspath(root), relpath)
    outs = tuple((o, o) if isinstance(o, str) else o for o in outputs)
    values = dict(variables.items() if isinstance(variables, Mapping) else variables)
    values.update({n: os.path.join(workdir, rel) for n, rel in outs})
    return Job(id=f"{path}?{text}" if text else path, name=name, case=case, full_case=case, relpath=relpath,
               workdir=workdir, script=script, variables=tuple(values.items()), outputs=outs,
               inputs=tuple(inputs), decorators=tuple(decorators), deps=tuple(sorted(deps)),
               ephemeral=ephemeral, resources=resources or Resources())


def consume(root: str | os.PathLike[str], name: str, script: str, upstream: Job, *, as_name: str = "i",
            output: str = "o", **kwargs) -> Job:
    """A job whose input `as_name` is output `output` of `upstream` (absolute path, plus a symlink)."""
    target = os.path.join(upstream.workdir, dict(upstream.outputs)[output])
    variables = {as_name: target, **dict(kwargs.pop("variables", {}))}
    return make_job(root, name, script, variables=variables, deps=[upstream.id, *kwargs.pop("deps", ())],
                    inputs=[InputLink(as_name, target=target)], **kwargs)


def reduce_over(root: str | os.PathLike[str], name: str, script: str, upstreams: Sequence[Job], axis: str, *,
                as_name: str = "d", output: str = "o", **kwargs) -> Job:
    """A job whose input `as_name` is a reduction over `axis` of the given upstream jobs."""
    entries = tuple(ReductionEntry(case_string(u.case) or "default",
                                   os.path.join(u.workdir, dict(u.outputs)[output]),
                                   ((axis, dict(u.full_case).get(axis, "")),)) for u in upstreams)
    link = InputLink(as_name, is_reduction=True, entries=entries)
    return make_job(root, name, script, deps=[u.id for u in upstreams], inputs=[link], **kwargs)


def make_graph(root: str | os.PathLike[str], *jobs: Job, targets: Sequence[str] | None = None) -> JobGraph:
    """The graph of `jobs`; targets default to the jobs nothing depends on."""
    graph = JobGraph({j.id: j for j in jobs}, root=os.fspath(root))
    if targets is None:
        dependents = graph.dependents()
        targets = [i for i in graph.order() if not dependents[i]]
    graph.targets = list(targets)
    return graph


def read(path: str | os.PathLike[str]) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()
