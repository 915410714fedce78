"""Cases: canonical form (non-default pairs sorted by axis), case strings, directory names and job ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hypermetric.percent import decode, encode, shorten

Pairs = tuple[tuple[str, str], ...]

DEFAULT_DIRNAME = "default"
MAX_FILE_NAME_LENGTH = 255


def canonical(case: Mapping[str, str], defaults: Mapping[str, str]) -> Pairs:
    """The pairs of `case` whose key is not its axis's default, sorted by axis name (code-point order)."""
    return tuple(sorted((a, k) for a, k in case.items() if defaults.get(a) != k))


def case_string(pairs: Iterable[tuple[str, str]]) -> str:
    """`A=enc(k)&B=enc(k2)`: keys form-encoded, axis names verbatim; empty for the default case."""
    return "&".join(f"{a}={encode(k)}" for a, k in pairs)


def dirname(pairs: Pairs, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
    """The case directory: `default`, the case string, or its MD5 hex digest when too long (§4.2)."""
    if not pairs:
        return DEFAULT_DIRNAME
    return shorten(case_string(pairs), max_length)


def task_path(name: str) -> str:
    """`o.t` -> `o/t`."""
    return name.replace(".", "/")


def job_id(name: str, pairs: Pairs) -> str:
    """`o/t` for the default case, else `o/t?A=y&B=1` (never hashed, §4.3)."""
    path = task_path(name)
    return f"{path}?{case_string(pairs)}" if pairs else path


def display(name: str, pairs: Pairs) -> str:
    """`name` or `name[A: k, B: k2]` with raw keys."""
    if not pairs:
        return name
    return f"{name}[{', '.join(f'{a}: {k}' for a, k in pairs)}]"


def parse_case_string(text: str) -> Pairs:
    """Inverse of `case_string` (`default` and the empty string are the default case)."""
    if text in ("", DEFAULT_DIRNAME):
        return ()
    pairs = []
    for clause in text.split("&"):
        axis, sep, key = clause.partition("=")
        if not sep or not axis:
            raise ValueError(f"malformed case clause `{clause}`")
        pairs.append((axis, decode(key)))
    return tuple(sorted(pairs))


@dataclass(frozen=True, slots=True)
class Case:
    """A canonical case: the non-default (axis, key) pairs sorted by axis name."""

    pairs: Pairs = ()

    @classmethod
    def of(cls, case: Mapping[str, str], defaults: Mapping[str, str]) -> Case:
        return cls(canonical(case, defaults))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def as_dict(self) -> dict[str, str]:
        return dict(self.pairs)

    def string(self) -> str:
        return case_string(self.pairs)

    def dirname(self, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
        return dirname(self.pairs, max_length)

    def display(self) -> str:
        """`A: k, B: k2` (`HYPERMAKE_JOB_CASE`), empty for the default case."""
        return ", ".join(f"{a}: {k}" for a, k in self.pairs)
