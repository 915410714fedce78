"""The syntax of a target, `t` or `t[A: k1 k2, B: *]`: the part of the syntax tree (`ast`) that a command on
an unchanged pipeline still needs.

Each command line's targets are parsed once and kept in the user's cache (`syntax.parse_target`); reading
one back makes its classes, and only these, so a command need not create every class of the syntax tree
(each frozen dataclass costs its creation at start-up). `ast` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypermetric.source import Span


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]  # set by the parser


@dataclass(frozen=True, slots=True)
class AxisIndex:
    """One clause of an index: `Axis: k` (select), `Axis: k1 k2` (reduce these) or `Axis: *` (`keys is None`)."""

    axis: str
    keys: tuple[str, ...] | None
    span: Span = _span()

    @property
    def is_star(self) -> bool:
        return self.keys is None


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A target: `path` or `path[A: k1 k2, B: *]` (command line, plans)."""

    path: str
    indices: tuple[AxisIndex, ...] = ()
    span: Span = _span()
