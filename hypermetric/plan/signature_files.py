"""The content of a plain input file as a signature sees it: a hash of its bytes, or of a directory's listing."""

from __future__ import annotations

import os

from hypermetric.hashing import blake2b
from hypermetric.plan.signature_record import digest

MISSING = "missing"  # what a file that cannot be read hashes to


def hash_file(path: str) -> str:
    h = blake2b(digest_size=10)
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return MISSING
    return h.hexdigest()


def listing(path: str) -> str:
    """A directory by its listing: entry names, with each regular file's size."""
    try:
        with os.scandir(path) as it:
            items = sorted(f"{e.name}:{e.stat().st_size if e.is_file() else 'd'}" for e in it)
    except OSError:
        return MISSING
    return "dir:" + digest("\n".join(items).encode())
