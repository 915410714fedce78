"""The Arrow memory pool the runtime allocates from.

Arrow's default pool on Linux (mimalloc) spends about 0.1-0.2 s warming up in a fresh process (its first
tables and Parquet reads and writes run at a third of their later speed), which every short run pays in every
process. The system allocator has no such cost and is as fast afterwards for the runtime's batch-sized tables.
The runtime's own processes (workers, evaluators) use it throughout; in the caller's process, reconciliation
uses it while it runs and then gives the caller back the default it had.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def use_system_pool() -> None:
    """Makes the system allocator this process's default Arrow pool (for processes the runtime owns)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


@contextlib.contextmanager
def system_pool() -> Iterator[None]:
    """The system allocator as the default Arrow pool for the duration of the block. (Arrays remember the pool
    they came from, so those made inside are freed correctly after.)"""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
