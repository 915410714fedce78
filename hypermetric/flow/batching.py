"""Cutting data streams into numbered batches, one part per stream for each batch.

A stream that can be sliced (a list, a tuple, a NumPy array, an Arrow table) is cut by slicing, so that a
batch keeps the stream's type and nothing is copied item by item; any other iterable (a range, a generator, a file) is
read `batch_size` items at a time into a list, and only as far as the batches asked for so far, so that a
stream that is never read ahead of the work keeps memory bounded. Streams that feed the same batches must
have the same length: a shorter one would silently pair items that do not belong together.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any

Batch = tuple[int, tuple[Any, ...]]


def batches(streams: tuple[Iterable[Any], ...], batch_size: int, prebatched: bool = False) -> Iterator[Batch]:
    """`(index, parts)` for each batch, where `parts[k]` is the batch's piece of `streams[k]`."""
    if not prebatched and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    cutters = [_whole_batches(stream) if prebatched else _cutter(stream, batch_size) for stream in streams]
    for index in itertools.count():
        parts = [cut() for cut in cutters]
        ended = [part is _END for part in parts]
        if all(ended):
            return
        if any(ended) or (not prebatched and len({len(part) for part in parts}) > 1):
            raise ValueError(f"the data streams have different lengths (they part at batch {index}); "
                             "every stream must hold one item for each item of the others")
        yield index, tuple(parts)


_END = object()


def _cutter(stream: Iterable[Any], size: int) -> Callable[[], Any]:
    """A function returning the stream's next batch on each call, or `_END` when there is none."""
    if hasattr(stream, "slice") and hasattr(stream, "num_rows"):  # an Arrow table or record batch
        return _slicer(stream.num_rows, lambda start: stream.slice(start, size), size)
    if isinstance(stream, Sized) and hasattr(stream, "__getitem__") and not isinstance(stream, (dict, str, range)):
        sliceable: Any = stream
        return _slicer(len(stream), lambda start: sliceable[start:start + size], size)
    items = iter(stream)

    def next_list() -> Any:
        part = list(itertools.islice(items, size))
        return part if part else _END

    return next_list


def _slicer(length: int, cut: Callable[[int], Any], size: int) -> Callable[[], Any]:
    starts = iter(range(0, length, size))

    def next_slice() -> Any:
        start = next(starts, None)
        return _END if start is None else cut(start)

    return next_slice


def _whole_batches(stream: Iterable[Any]) -> Callable[[], Any]:
    parts = iter(stream)
    return lambda: next(parts, _END)
