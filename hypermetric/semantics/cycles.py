"""Reference-cycle detection: a stack of definitions being resolved, reported as `a -> b -> a`."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from hypermetric.diagnostic import Label
from hypermetric.errors import CycleError
from hypermetric.source import Span


class Guard:
    """Tracks the definitions under resolution; entering one already on the stack is a cycle."""

    def __init__(self) -> None:
        self._stack: list[tuple[Hashable, str, Span | None]] = []
        self._index: dict[Hashable, int] = {}

    @contextmanager
    def visit(self, key: Hashable, label: str, via: Span | None) -> Iterator[None]:
        """Resolve `label` (reached through the reference at `via`) inside the block."""
        if key in self._index:
            raise self._cycle(self._index[key], label, via)
        self._index[key] = len(self._stack)
        self._stack.append((key, label, via))
        try:
            yield
        finally:
            self._stack.pop()
            del self._index[key]

    def _cycle(self, start: int, label: str, via: Span | None) -> CycleError:
        names = [entry[1] for entry in self._stack[start:]] + [label]
        edges = [entry[2] for entry in self._stack[start + 1:]] + [via]
        message = f"reference cycle: {' -> '.join(names)}"
        spans = [(i, span) for i, span in enumerate(edges) if span is not None]
        if not spans:
            return CycleError(message)
        (_, primary), rest = spans[0], spans[1:]
        labels = [Label(span, f"`{names[i]}` refers to `{names[i + 1]}` here") for i, span in rest]
        return CycleError(message, primary, labels=labels)
