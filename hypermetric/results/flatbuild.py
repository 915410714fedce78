"""A small FlatBuffers builder: tables of scalars and references, strings, and vectors of references or of
structs, which is all that the metadata of an Arrow IPC file needs.

Like FlatBuffers' own builders it works back to front: an object is placed before (at a lower address than)
what it was placed after, so whatever a table refers to is built first and every reference (an unsigned
32-bit distance) points forward, as the format requires. An object is known by its distance from the end of
the finished buffer (its `ref`); alignment is counted from that end too, and the finished buffer is padded to
its largest alignment, so that an aligned distance from the end is an aligned address. All numbers are
little-endian, as the format says.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

# A table field: `None` when absent, `(struct format, value)` for a scalar ("?", "B", "h", "i", "q"), or
# `(REF, ref)` for a reference to an object already built.
REF = "ref"
Field = tuple[str, int] | None

_U32 = struct.Struct("<I")


class Builder:
    """One flatbuffer, built back to front; `finish` returns its bytes."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []  # in reverse order: the last one placed comes first in the buffer
        self._size = 0
        self._max_align = 4

    def string(self, text: str | bytes) -> int:
        """A string: its length, its bytes, and a terminating zero byte (which readers may rely on)."""
        data = text.encode() if isinstance(text, str) else text
        self._align(4, len(data) + 1)
        self._place(data + b"\0")
        return self._place(_U32.pack(len(data)))

    def refs(self, refs: Sequence[int]) -> int:
        """A vector of references to tables or strings already built."""
        self._align(4, 4 * len(refs))
        for ref in reversed(refs):
            self._place_ref(ref)
        return self._place(_U32.pack(len(refs)))

    def structs(self, packed: bytes, count: int, align: int) -> int:
        """A vector of `count` structs, given as their packed bytes one after another."""
        self._align(max(align, 4), len(packed))
        self._place(packed)
        return self._place(_U32.pack(count))

    def table(self, fields: Sequence[Field]) -> int:
        """A table whose field `i` is `fields[i]`; absent fields take their schema's default."""
        start = self._size
        where = [0] * len(fields)
        for i in reversed(range(len(fields))):
            field = fields[i]
            if field is None:
                continue
            kind, value = field
            if kind == REF:
                self._align(4, 0)
                where[i] = self._place_ref(value)
            else:
                size = struct.calcsize(kind)
                self._align(size, 0)
                where[i] = self._place(struct.pack("<" + kind, value))
        # The table starts with a signed distance back to its vtable, which is placed right before it
        # (uint16s need no padding after a 4-byte boundary), so the distance is the vtable's length.
        vtable_length = 4 + 2 * len(fields)
        self._align(4, 0)
        table = self._place(struct.pack("<i", vtable_length))
        offsets = [table - at if at else 0 for at in where]
        self._place(struct.pack(f"<{2 + len(fields)}H", vtable_length, table - start, *offsets))
        return table

    def finish(self, root: int) -> bytes:
        """The buffer's bytes, starting with the reference to its root table."""
        self._align(self._max_align, 4)
        self._place_ref(root)
        return b"".join(reversed(self._chunks))

    def _align(self, align: int, coming: int) -> None:
        """Pads so that after `coming` more bytes the buffer's size is a multiple of `align`."""
        self._max_align = max(self._max_align, align)
        pad = -(self._size + coming) % align
        if pad:
            self._place(bytes(pad))

    def _place(self, data: bytes) -> int:
        self._chunks.append(data)
        self._size += len(data)
        return self._size

    def _place_ref(self, ref: int) -> int:
        """A reference, stored as the distance from where it stands to the object it refers to."""
        return self._place(_U32.pack(self._size + 4 - ref))
