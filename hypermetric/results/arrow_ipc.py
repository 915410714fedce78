"""An Arrow IPC file of nullable string columns, written without pyarrow.

A job runner writes one such file per reduction input (its manifest), and importing pyarrow for it cost
more CPU than the rest of the job. The file holds one record batch and follows the Arrow columnar format:

    "ARROW1" + 2 zero bytes
    message: the Schema                           (each message: 0xFFFFFFFF, the int32 length of its
    message: the RecordBatch, then its body        flatbuffer padded to 8 bytes, the flatbuffer, the body)
    0xFFFFFFFF, 0                                 (end of the stream)
    the Footer flatbuffer, its int32 length, "ARROW1"

Every part starts at a multiple of 8 bytes. A string column has three buffers in the body: the validity
bitmap (empty when no value is null), `length + 1` int32 offsets, and the UTF-8 bytes. The metadata tables
are written from the schemas in Arrow's `format/Schema.fbs`, `Message.fbs` and `File.fbs`; only the fields
used here are named below, by their index in those tables.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import accumulate

from hypermetric.results.flatbuild import REF, Builder

MAGIC = b"ARROW1"
_CONTINUATION = b"\xff\xff\xff\xff"
_V5 = 4  # MetadataVersion.V5
_UTF8 = 5  # the Type union's member for Utf8
_SCHEMA_HEADER, _RECORD_BATCH_HEADER = 1, 3  # the MessageHeader union's members
_TWO_LONGS = struct.Struct("<qq")  # FieldNode (length, null_count) and Buffer (offset, length)
_BLOCK = struct.Struct("<qi4xq")  # Block: offset, metaDataLength, padding, bodyLength
_MAX_OFFSET = 2**31 - 1  # Utf8 offsets are int32

Column = Sequence[str | None]


def string_table_file(names: Sequence[str], columns: Sequence[Column],
                      metadata: Iterable[tuple[str | bytes, str | bytes]] = ()) -> list[bytes]:
    """The bytes of an Arrow IPC file, as parts to write one after another, holding one record batch of the
    nullable string columns `columns` (None: null) named `names`, with schema metadata `metadata`."""
    metadata = list(metadata)
    length = len(columns[0]) if columns else 0
    if len(names) != len(columns) or any(len(column) != length for column in columns):
        raise ValueError("columns of different lengths, or not one name per column")
    schema = _message(_schema_message(names, metadata))
    nodes, buffers, body = _body(columns)
    batch = _message(_batch_message(length, nodes, buffers, sum(map(len, body))))
    batch_at = len(MAGIC) + 2 + len(schema)
    footer = _footer(names, metadata, _BLOCK.pack(batch_at, len(batch), sum(map(len, body))))
    return [MAGIC + b"\0\0", schema, batch, *body, _CONTINUATION + bytes(4), footer,
            struct.pack("<i", len(footer)), MAGIC]


def _message(flatbuffer: bytes) -> bytes:
    """An encapsulated message's metadata: the continuation marker, the padded length, the flatbuffer."""
    padded = flatbuffer + bytes(-len(flatbuffer) % 8)
    return _CONTINUATION + struct.pack("<i", len(padded)) + padded


def _schema_message(names: Sequence[str], metadata: list[tuple[str | bytes, str | bytes]]) -> bytes:
    b = Builder()
    schema = _schema(b, names, metadata)
    return b.finish(_message_table(b, _SCHEMA_HEADER, schema, 0))


def _batch_message(length: int, nodes: bytes, buffers: bytes, body_length: int) -> bytes:
    b = Builder()
    buffer_vector = b.structs(buffers, len(buffers) // _TWO_LONGS.size, 8)
    node_vector = b.structs(nodes, len(nodes) // _TWO_LONGS.size, 8)
    batch = b.table([("q", length), (REF, node_vector), (REF, buffer_vector)])
    return b.finish(_message_table(b, _RECORD_BATCH_HEADER, batch, body_length))


def _message_table(b: Builder, header_type: int, header: int, body_length: int) -> int:
    """Message: version, header_type, header, bodyLength."""
    return b.table([("h", _V5), ("B", header_type), (REF, header), ("q", body_length)])


def _footer(names: Sequence[str], metadata: list[tuple[str | bytes, str | bytes]], block: bytes) -> bytes:
    """Footer: version, schema, dictionaries, recordBatches."""
    b = Builder()
    batches = b.structs(block, 1, 8)
    dictionaries = b.structs(b"", 0, 8)
    schema = _schema(b, names, metadata)
    return b.finish(b.table([("h", _V5), (REF, schema), (REF, dictionaries), (REF, batches)]))


def _schema(b: Builder, names: Sequence[str], metadata: list[tuple[str | bytes, str | bytes]]) -> int:
    """Schema: endianness (little, the default), fields, custom_metadata. Readers refuse a field without a
    type table or a children vector, so each field has both, though Utf8 and the vector are empty."""
    pairs = [b.table([(REF, b.string(key)), (REF, b.string(value))]) for key, value in metadata]
    custom = b.refs(pairs)
    fields = []
    for name in names:
        no_children, utf8, text = b.refs([]), b.table([]), b.string(name)
        # Field: name, nullable, type_type, type, dictionary, children
        fields.append(b.table([(REF, text), ("?", True), ("B", _UTF8), (REF, utf8), None, (REF, no_children)]))
    return b.table([None, (REF, b.refs(fields)), (REF, custom)])


def _body(columns: Sequence[Column]) -> tuple[bytes, bytes, list[bytes]]:
    """The batch's field nodes and buffer locations (packed structs) and its body, each buffer padded to 8."""
    nodes, buffers, body, at = [], [], [], 0
    for column in columns:
        nulls, column_buffers = _string_buffers(column)
        nodes.append(_TWO_LONGS.pack(len(column), nulls))
        for data in column_buffers:
            buffers.append(_TWO_LONGS.pack(at, len(data)))
            padded = data + bytes(-len(data) % 8)
            body.append(padded)
            at += len(padded)
    return b"".join(nodes), b"".join(buffers), body


def _string_buffers(values: Column) -> tuple[int, tuple[bytes, bytes, bytes]]:
    """A string column's null count and buffers: validity (empty without nulls), int32 offsets, UTF-8."""
    nulls = values.count(None)
    encoded = [b"" if value is None else value.encode() for value in values]
    data = b"".join(encoded)
    if len(data) > _MAX_OFFSET:
        raise ValueError("a string column of more than 2 GiB")
    offsets = array("i", [0])
    offsets.extend(accumulate(map(len, encoded)))
    if sys.byteorder == "big":  # Arrow's buffers here are little-endian, as the schema says
        offsets.byteswap()
    return nulls, (_validity(values) if nulls else b"", offsets.tobytes(), data)


def _validity(values: Column) -> bytes:
    """One bit per value, least significant first: set where the value is not null."""
    bits = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return bytes(bits)
