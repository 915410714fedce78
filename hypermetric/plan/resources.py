"""Per-job resources from the stdlib `resources` decorator (`@resources.resources(cpus=…, gpus=…)`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hypermetric.errors import ResolutionError
from hypermetric.plan.job import Resources
from hypermetric.source import Span

FIELDS = frozenset({"cpus", "gpus", "memory", "custom"})
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", re.IGNORECASE)


def is_resources_decorator(cls: str | None, names: set[str]) -> bool:
    """A decorator instantiating a class called `resources` whose parameters are resource counts."""
    return cls is not None and cls.rsplit(".", 1)[-1] == "resources" and bool(names) and names <= FIELDS


def parse_resources(values: Mapping[str, str], span: Span | None = None) -> Resources:
    """`cpus`/`gpus` numbers, `memory` bytes (optional K/M/G/T suffix), `custom` `name=amount` pairs."""
    return Resources(
        cpus=_number(values.get("cpus", "1") or "1", "cpus", span),
        gpus=_number(values.get("gpus", "0") or "0", "gpus", span),
        memory=_memory(values.get("memory", ""), span),
        custom=_custom(values.get("custom", ""), span),
    )


def _number(text: str, what: str, span: Span | None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ResolutionError(f"`{what}` must be a number, not `{text}`", span) from None
    if value < 0:
        raise ResolutionError(f"`{what}` must not be negative, not `{text}`", span)
    return value


def _memory(text: str, span: Span | None) -> int:
    if not text.strip():
        return 0
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise ResolutionError(f"`memory` must be a number of bytes with an optional K, M, G or T suffix, "
                              f"not `{text}`", span)
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _custom(text: str, span: Span | None) -> tuple[tuple[str, float], ...]:
    pairs = []
    for item in text.split():
        name, sep, amount = item.partition("=")
        if not sep or not name:
            raise ResolutionError(f"custom resources are `name=amount` pairs, not `{item}`", span)
        pairs.append((name, _number(amount, name, span)))
    return tuple(sorted(pairs))
