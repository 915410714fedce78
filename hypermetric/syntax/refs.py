"""The syntax of a target, `t` or `t[A: k1 k2, B: *]`: the part of the syntax tree (`ast`) that a command on
an unchanged pipeline still needs.

Each command line's targets are parsed once and kept in the user's cache (`syntax.parse_target`); reading
one back makes its classes, and only these, so a command need not create every class of the syntax tree
(each frozen dataclass costs its creation at start-up). `ast` re-exports both.
"""

from __future__ import annotations

from hypermetric.record import Record, setfield
from hypermetric.source import Span

# Each class's span is set by the parser, and is neither compared nor shown (as for the syntax tree's nodes).


class AxisIndex(Record):
    """One clause of an index: `Axis: k` (select), `Axis: k1 k2` (reduce these) or `Axis: *` (`keys is None`)."""

    __slots__ = ("axis", "keys", "span")
    _compared = _shown = ("axis", "keys")
    axis: str
    keys: tuple[str, ...] | None
    span: Span

    def __init__(self, axis: str, keys: tuple[str, ...] | None, span: Span = None) -> None:  # type: ignore[assignment]
        setfield(self, "axis", axis)
        setfield(self, "keys", keys)
        setfield(self, "span", span)

    @property
    def is_star(self) -> bool:
        return self.keys is None


class TaskRef(Record):
    """A target: `path` or `path[A: k1 k2, B: *]` (command line, plans)."""

    __slots__ = ("path", "indices", "span")
    _compared = _shown = ("path", "indices")
    path: str
    indices: tuple[AxisIndex, ...]
    span: Span

    def __init__(self, path: str, indices: tuple[AxisIndex, ...] = (), span: Span = None) -> None:  # type: ignore[assignment]
        setfield(self, "path", path)
        setfield(self, "indices", indices)
        setfield(self, "span", span)
