"""Targets (the command line's `TARGET` words): a plan name, or a task with indices, expanded into the canonical cases to run."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from hypermetric.errors import TargetError
from hypermetric.model.case import Pairs
from hypermetric.record import Record, setfield
from hypermetric.semantics.model import Pipeline, PlanInfo
from hypermetric.source import Span
from hypermetric.suggest import help_did_you_mean


class IndexLike(Protocol):
    """One clause of a target's index (`Axis: k1 k2`, or `Axis: *` when `keys` is None)."""

    @property
    def axis(self) -> str: ...
    @property
    def keys(self) -> tuple[str, ...] | None: ...
    @property
    def span(self) -> Span | None: ...


class TargetLike(Protocol):
    """A target: a plan's (`semantics.model.Target`) or one parsed from the command line (`syntax.parse_target`),
    which have the same shape."""

    @property
    def path(self) -> str: ...
    @property
    def indices(self) -> Sequence[IndexLike]: ...
    @property
    def span(self) -> Span | None: ...


class Selection(Record):
    """Jobs of one task: its dotted name and canonical cases (non-default pairs sorted by axis)."""

    __slots__ = ("task", "cases")
    task: str
    cases: tuple[Pairs, ...]

    def __init__(self, task: str, cases: tuple[Pairs, ...]) -> None:
        setfield(self, "task", task)
        setfield(self, "cases", cases)


def resolve_targets(pipeline: Pipeline, refs: Iterable[TargetLike]) -> list[Selection]:
    """Expand every target; plan names are tried first. Indexing a plan (`P[A: x]`) and naming an unknown
    target are errors, where HyperMake ignores the index or runs nothing."""
    out: list[Selection] = []
    for ref in refs:
        out.extend(_expand(pipeline, ref, "", ()))
    return out


def check_plans(pipeline: Pipeline) -> None:
    """Every plan must name existing tasks with valid indices (plans are resolved at definition time)."""
    for plan in pipeline.plans.values():
        _expand_plan(pipeline, plan, (), check_only=True)


def _expand(pipeline: Pipeline, ref: TargetLike, scope: str, active: tuple[str, ...],
            check_only: bool = False) -> list[Selection]:
    plan = _find(pipeline.plans, ref.path, scope)
    if plan is not None:
        if ref.indices:
            raise TargetError(f"plan `{plan.name}` cannot be indexed", ref.span,
                              help=f"index the tasks inside the plan instead of `{plan.name}` itself")
        return _expand_plan(pipeline, plan, active, check_only)
    name = _find_name(pipeline.tasks, ref.path, scope)
    if name is None:
        raise TargetError(f"undefined target `{ref.path}`", ref.span,
                          help=help_did_you_mean(ref.path, [*pipeline.tasks, *pipeline.plans]))
    return [Selection(name, select_cases(pipeline, name, ref, enumerate_cases=not check_only))]


def _expand_plan(pipeline: Pipeline, plan: PlanInfo, active: tuple[str, ...],
                 check_only: bool) -> list[Selection]:
    if plan.name in active:
        chain = " -> ".join((*active[active.index(plan.name):], plan.name))
        raise TargetError(f"plan cycle: {chain}", plan.span)
    out: list[Selection] = []
    for target in plan.targets:
        out.extend(_expand(pipeline, target, plan.owner, (*active, plan.name), check_only))
    return out


def _find(table: Mapping[str, PlanInfo], path: str, scope: str) -> PlanInfo | None:
    name = _find_name(table, path, scope)
    return table[name] if name is not None else None


def _find_name(table: Mapping[str, object], path: str, scope: str) -> str | None:
    """`path` relative to the object `scope` or an enclosing one (plans inside objects), then the root."""
    parts = scope.split(".") if scope else []
    for depth in range(len(parts), -1, -1):
        candidate = ".".join((*parts[:depth], path))
        if candidate in table:
            return candidate
    return None


def select_cases(pipeline: Pipeline, name: str, ref: TargetLike,
                 enumerate_cases: bool = True) -> tuple[Pairs, ...]:
    """The cross product of the indexed keys (`*` = all) with defaults elsewhere. An axis the task lacks
    is ignored when declared somewhere, so one target can span tasks over different axes; an undeclared axis or
    unknown key is an error (HyperMake plans no job for it, which hides typos)."""
    axes = pipeline.tasks[name].axes
    choices: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for index in ref.indices:
        axis = pipeline.axis(index.axis)
        if axis is None:
            raise TargetError(f"undefined axis `{index.axis}`", index.span,
                              help=help_did_you_mean(index.axis, [a.name for a in pipeline.axes]))
        if index.axis in seen:
            raise TargetError(f"axis `{index.axis}` is indexed more than once", index.span)
        seen.add(index.axis)
        keys = axis.keys if index.keys is None else index.keys
        for key in keys:
            if key not in axis:
                raise TargetError(f"axis `{axis.name}` has no key `{key}`", index.span,
                                  help=help_did_you_mean(key, axis.keys))
        if axis.name in axes:
            choices[axis.name] = axis.ordered(keys)
    if not enumerate_cases:
        return ()
    declared = pipeline.defaults  # every axis of a task is declared
    # Per axis, its (axis, key) pair per chosen key (None for the default): every case shares these tuples.
    ranges = [[None if k == declared[a] else (a, k) for k in choices.get(a, (declared[a],))] for a in axes]
    return tuple([tuple(filter(None, combo)) for combo in itertools.product(*ranges)])
