"""Lazy tensors of values: expression nodes with a shape (their axes), evaluated at one case at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from hypermetric.record import Record, setfield
from hypermetric.semantics.model.values import Multiple, Pure, TaskOutput, Value

if TYPE_CHECKING:
    from hypermetric.source import Span

EMPTY: frozenset[str] = frozenset()


class Const(Record, compare=False):
    """A literal: the same value at every case."""

    __slots__ = ("value", "span")
    value: Value
    span: Span | None

    def __init__(self, value: Value, span: Span | None = None) -> None:
        setfield(self, "value", value)
        setfield(self, "span", span)

    @property
    def shape(self) -> frozenset[str]:
        return EMPTY

    def at(self, case: Mapping[str, str]) -> Value:
        return self.value


class Branch(Record, compare=False):
    """`{A: k1=e1 k2=e2}`: the branch of the case's key on `axis` (its default when the case lacks it)."""

    __slots__ = ("axis", "default", "branches", "span", "shape")
    _derived = ("shape",)
    axis: str
    default: str
    branches: dict[str, Node]
    span: Span | None
    shape: frozenset[str]

    def __init__(self, axis: str, default: str, branches: dict[str, Node], span: Span | None = None) -> None:
        setfield(self, "axis", axis)
        setfield(self, "default", default)
        setfield(self, "branches", branches)
        setfield(self, "span", span)
        shape = {axis}
        for node in branches.values():
            shape |= node.shape
        setfield(self, "shape", frozenset(shape))

    def at(self, case: Mapping[str, str]) -> Value:
        return self.branches[case.get(self.axis, self.default)].at(case)


class Output(Record, compare=False):
    """`$t[A: k, B: *].o`: output `output` of the task named `task`, selected axes fixed and reduced axes
    gathered."""

    __slots__ = ("task", "output", "axes", "defaults", "fixed", "reduced", "service", "span", "shape")
    _derived = ("shape",)
    task: str
    output: str
    axes: tuple[str, ...]                       # the task's axes, sorted
    defaults: tuple[str, ...]                   # their default keys
    fixed: dict[str, str]
    reduced: tuple[tuple[str, tuple[str, ...]], ...]
    service: str | None
    span: Span | None
    shape: frozenset[str]

    def __init__(self, task: str, output: str, axes: tuple[str, ...], defaults: tuple[str, ...],
                 fixed: dict[str, str] | None = None, reduced: tuple[tuple[str, tuple[str, ...]], ...] = (),
                 service: str | None = None, span: Span | None = None) -> None:
        fixed = {} if fixed is None else fixed
        setfield(self, "task", task)
        setfield(self, "output", output)
        setfield(self, "axes", axes)
        setfield(self, "defaults", defaults)
        setfield(self, "fixed", fixed)
        setfield(self, "reduced", reduced)
        setfield(self, "service", service)
        setfield(self, "span", span)
        gone = set(fixed) | {a for a, _ in reduced}
        setfield(self, "shape", frozenset(a for a in axes if a not in gone))

    def pairs(self, case: Mapping[str, str], fixed: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The upstream canonical case: fixed keys first, else the consumer's key, else the default."""
        out = []
        for axis, default in zip(self.axes, self.defaults):
            key = fixed.get(axis)
            if key is None:
                key = case.get(axis, default)
            if key != default:
                out.append((axis, key))
        return tuple(out)

    def at(self, case: Mapping[str, str]) -> Value:
        if not self.reduced:
            return TaskOutput(self.task, self.output, self.pairs(case, self.fixed), self.service)
        names = tuple(a for a, _ in self.reduced)
        task, output, service = self.task, self.output, self.service
        entries = [(tuple(zip(names, combo)), TaskOutput(task, output, pairs, service))
                   for combo, pairs in self._combinations(case)]
        return Multiple(names, tuple(entries))

    def upstream_cases(self, case: Mapping[str, str]) -> Iterator[tuple[tuple[str, str], ...]]:
        """The canonical case of each upstream job the reference reads at `case` (one per reduced combination,
        in no particular order), without building the values; the cases share their (axis, key) tuples."""
        if not self.reduced:
            yield self.pairs(case, self.fixed)
            return
        reduced = dict(self.reduced)
        choices = []  # per axis of the task, in order: its (axis, key) pair per key, None for the default
        for axis, default in zip(self.axes, self.defaults):
            keys = reduced.get(axis)
            if keys is None:
                keys = (_key(self.fixed, case, axis, default),)
            choices.append([None if k == default else (axis, k) for k in keys])
        for combo in itertools.product(*choices):
            yield tuple(filter(None, combo))

    def _combinations(self, case: Mapping[str, str]) -> Iterator[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
        """(keys of the reduced axes, upstream canonical case) for each combination of the reduced keys."""
        # Each upstream case is the same template (fixed keys, else the consumer's, else the default) with
        # the reduced axes' keys put in; a reduction over 10,000 cases builds 10,000 of them.
        position = {axis: i for i, axis in enumerate(self.axes)}
        template = [_key(self.fixed, case, axis, default) for axis, default in zip(self.axes, self.defaults)]
        slots = [position.get(axis, len(template)) for axis, _ in self.reduced]  # an axis the task lacks: no slot
        template.append("")
        axes, defaults = self.axes, self.defaults
        for combo in itertools.product(*(keys for _, keys in self.reduced)):
            keys = template.copy()
            for slot, key in zip(slots, combo):
                keys[slot] = key
            yield combo, tuple([(a, k) for a, k, d in zip(axes, keys, defaults) if k != d])  # zip drops the spare


Node = Const | Branch | Output


def _key(fixed: Mapping[str, str], case: Mapping[str, str], axis: str, default: str) -> str:
    key = fixed.get(axis)
    return case.get(axis, default) if key is None else key


def walk(node: Node) -> Iterator[Node]:
    """The node and every node below it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Branch):
            stack.extend(current.branches.values())


def outputs(node: Node) -> Iterator[Output]:
    """Every task-output reference inside the node."""
    return (n for n in walk(node) if isinstance(n, Output))


def is_pure(node: Node) -> bool:
    """Whether every value the node can take is a plain string."""
    return first_impure(node) is None


def first_impure(node: Node) -> Node | None:
    """A leaf that is not a plain string (for error spans), if any."""
    for n in walk(node):
        if isinstance(n, Output) or (isinstance(n, Const) and not isinstance(n.value, Pure)):
            return n
    return None
