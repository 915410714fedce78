"""`Axis`: a named, ordered, finite set of keys whose first key is the default."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Axis:
    """An axis (HyperMake "parameter"): keys in declaration order, the first one being the default key."""

    name: str
    keys: tuple[str, ...]
    _positions: dict[str, int] = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError(f"axis `{self.name}` has no keys")
        positions: dict[str, int] = {}
        for i, key in enumerate(self.keys):
            positions.setdefault(key, i)
        if len(positions) != len(self.keys):
            raise ValueError(f"axis `{self.name}` lists a key twice")
        object.__setattr__(self, "_positions", positions)

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
