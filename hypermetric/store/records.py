"""Reading a job's `job.json`: the whole record, or only the signature the job protocol writes at its head."""

from __future__ import annotations

import json
import os
from typing import Any

from hypermetric.store.layout import JOB_JSON

_HEAD = b'{"signature": "'  # the job protocol writes the signature first, so it is read without parsing
_HEAD_SIZE = 256  # far more than the head and a signature


def _read_bytes(workdir: str) -> bytes | None:
    try:
        fd = os.open(os.path.join(workdir, JOB_JSON), os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read_head(workdir: str) -> bytes | None:
    """The first bytes of `job.json`: enough for the signature the job protocol writes first."""
    try:
        fd = os.open(f"{workdir}/{JOB_JSON}", os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, _HEAD_SIZE)
    except OSError:
        return None
    finally:
        os.close(fd)


def _parse(data: bytes | None) -> dict[str, Any] | None:
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def read_record(workdir: str) -> dict[str, Any] | None:
    """The job's `job.json` as a dict, or None when it is absent or unreadable."""
    return _parse(_read_bytes(workdir))


def _signature_of(data: bytes | None) -> str | None:
    """The recorded signature at the head of `job.json`, if there is one."""
    if not data or not data.startswith(_HEAD):
        return None
    end = data.find(b'"', len(_HEAD))
    return data[len(_HEAD):end].decode("ascii", "replace") if end > 0 else None


def read_signature(workdir: str) -> str | None:
    """The signature recorded in the job's `job.json` (None when there is none): its head is read, and the
    whole file only when the head is longer than any signature the job protocol writes."""
    head = _read_head(workdir)
    recorded = _signature_of(head)
    if recorded is None and head is not None and len(head) == _HEAD_SIZE:
        recorded = _signature_of(_read_bytes(workdir))  # a head longer than expected: read it all
    return recorded
