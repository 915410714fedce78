"""`blake2b`, the hash of signatures and caches, without the OpenSSL library that importing `hashlib` loads
(a few milliseconds of every command's start-up): `hashlib` takes it from the same built-in module."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # a Python built without the module: the same hash through hashlib
    from hashlib import blake2b

__all__ = ["blake2b"]
