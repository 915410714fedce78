"""`Axis`: a named, ordered, finite set of keys whose first key is the default."""

from __future__ import annotations

from hypermetric.record import Record, setfield


class Axis(Record):
    """An axis (HyperMake "parameter"): keys in declaration order, the first one being the default key."""

    __slots__ = ("name", "keys", "_positions")
    _compared = _shown = ("name", "keys")
    _derived = ("_positions",)
    name: str
    keys: tuple[str, ...]
    _positions: dict[str, int]

    def __init__(self, name: str, keys: tuple[str, ...]) -> None:
        setfield(self, "name", name)
        setfield(self, "keys", keys)
        if not keys:
            raise ValueError(f"axis `{name}` has no keys")
        positions: dict[str, int] = {}
        for i, key in enumerate(keys):
            positions.setdefault(key, i)
        if len(positions) != len(keys):
            raise ValueError(f"axis `{name}` lists a key twice")
        setfield(self, "_positions", positions)

    @property
    def default(self) -> str:
        return self.keys[0]

    def __contains__(self, key: object) -> bool:
        return key in self._positions

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, key: str) -> int:
        """Index of `key` in declaration order (`KeyError` when absent)."""
        return self._positions[key]

    def ordered(self, keys: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The given keys without duplicates, in declaration order."""
        return tuple(sorted(set(keys), key=self._positions.__getitem__))

    def aligned_with(self, other: Axis) -> bool:
        """Whether two occurrences of an axis agree: same name, same keys in the same order.

        HyperMake silently intersects the key lists of an axis declared differently in two files, which drops
        cases without a word; here any difference is an error."""
        return self.name == other.name and self.keys == other.keys

    def render(self) -> str:
        """`{ k1 k2 k3 }`, as `list` prints it."""
        return "{ " + " ".join(self.keys) + " }"
