"""`Shape`: axes with the keys each ranges over, enumerated as an odometer in a fixed order."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hypermetric.model.axis import Axis


@dataclass(frozen=True, slots=True)
class Shape:
    """An ordered product of axes, each restricted to a subset of its keys (all keys by default)."""

    axes: tuple[Axis, ...] = ()
    keys: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, axes: tuple[Axis, ...] | list[Axis]) -> Shape:
        axes = tuple(axes)
        return cls(axes, tuple(a.keys for a in axes))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def __len__(self) -> int:
        """The number of cases."""
        size = 1
        for ks in self.keys:
            size *= len(ks)
        return size

    def select(self, choices: Mapping[str, tuple[str, ...]]) -> Shape:
        """Restrict the named axes to the given keys (kept in declaration order); other axes unchanged."""
        keys = tuple(
            axis.ordered(choices[axis.name]) if axis.name in choices else ks
            for axis, ks in zip(self.axes, self.keys)
        )
        return Shape(self.axes, keys)

    def restrict(self, names: set[str] | frozenset[str]) -> Shape:
        """Only the axes whose names are given, in this shape's order."""
        kept = [(a, ks) for a, ks in zip(self.axes, self.keys) if a.name in names]
        return Shape(tuple(a for a, _ in kept), tuple(ks for _, ks in kept))

    def join(self, other: Shape) -> Shape:
        """This shape's axes, then the other's axes not already present."""
        mine = set(self.names)
        extra = [(a, ks) for a, ks in zip(other.axes, other.keys) if a.name not in mine]
        return Shape(self.axes + tuple(a for a, _ in extra), self.keys + tuple(ks for _, ks in extra))

    def enumerate(self) -> Iterator[tuple[str, ...]]:
        """Key tuples, last axis varying fastest."""
        return itertools.product(*self.keys)

    def cases(self) -> Iterator[dict[str, str]]:
        """Each case as a dict over this shape's axes, in `enumerate` order."""
        names = self.names
        for combo in itertools.product(*self.keys):
            yield dict(zip(names, combo))
