"""Which backend runs a graph when the caller says `auto`, and which Ray cluster the Ray backend joins.

One rule, used wherever the choice is made: `auto` means `remote` when SSH machines are given, `ray` when a
Ray cluster address is known, else `local`. The address is the one the caller passes; without one, Ray's own
convention applies and `RAY_ADDRESS` names the cluster (read here, at the point of joining, never used to
carry an option from one part of hypermetric to another).
"""

from __future__ import annotations

import os

# On Ray the cluster's resources, not a count of slots, limit how many jobs run at once.
RAY_UNBOUNDED = 1_000_000


def cluster_address(explicit: str | None = None) -> str | None:
    """The Ray cluster to join: `explicit`, else `RAY_ADDRESS`, else None (start an embedded Ray)."""
    address = (explicit or os.environ.get("RAY_ADDRESS", "")).strip()
    return address or None


def choose_backend(backend: str, *, ray_address: str | None = None, machines: tuple = ()) -> str:
    """The backend `backend` means: itself, or for `auto` the one the rule above picks."""
    if backend != "auto":
        return backend
    if machines:
        return "remote"
    return "ray" if cluster_address(ray_address) else "local"
