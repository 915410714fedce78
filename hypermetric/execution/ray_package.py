"""Whether a Ray cluster's workers already run this very hypermetric package, so that joining it ships nothing.

Shipping the package (a `py_modules` runtime environment) costs every run: Ray hashes the package on the
driver, uploads it when the cluster lacks that copy, and each job then waits for workers started for that
environment instead of using the idle ones. A cluster started from the same installation (`ray start --head`
beside the driver, or nodes that mount the same files) needs none of it.

The package's fingerprint is its version, the Python version and the path, size and modification time of each
of its files, as one process sees them: a worker whose package has the driver's fingerprint runs the same
code. The cluster remembers, in its key-value store under the fingerprint, whether its workers have that
package (`NATIVE`) or not (`SHIP`); the driver reads that before it connects, so a run on a known cluster pays
nothing more. On a cluster that does not know yet, the driver asks once: a probe task with no runtime
environment returns its worker's fingerprint (a worker without hypermetric fails to import the task, which
also means `SHIP`). Every job sent without the package carries the fingerprint, and its worker checks it
(once per worker process) before it runs anything: a worker with another copy (a node added since, files
edited since) fails the job with a reason instead of running other code, and makes the cluster forget its
answer, so that the next run asks again. This module imports Ray only in the functions that take it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import lru_cache
from types import ModuleType

from hypermetric import __version__

NATIVE, SHIP = b"native", b"ship"
_NAMESPACE = b"hypermetric"
PROBE_TIMEOUT = 120.0   # for the probe task: a worker starting on a busy node; past it, the package is shipped
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@lru_cache(maxsize=None)
def fingerprint(package: str = PACKAGE) -> str:
    """The fingerprint of the package in directory `package` (compiled files left out); see the docstring."""
    digest = hashlib.sha256(f"{__version__} {sys.version_info[:2]}".encode())
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(path, package)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _key(stamp: str) -> bytes:
    return b"package:" + stamp.encode()


def remembered(address: str, stamp: str) -> bytes | None:
    """What the cluster at `address` remembers about the package with fingerprint `stamp` (`NATIVE`, `SHIP`)
    or None (not known, or the cluster could not be asked without joining it)."""
    if "://" in address:   # a Ray Client address has no key-value store to read before joining
        return None
    try:
        from ray._private.services import canonicalize_bootstrap_address_or_die
        from ray._raylet import GcsClient  # type: ignore[attr-defined]  # Ray types the module only in part

        client = GcsClient(address=canonicalize_bootstrap_address_or_die(address))
        answer = client.internal_kv_get(_key(stamp), _NAMESPACE, timeout=10)
    except Exception:  # noqa: BLE001  # any failure only means asking again after joining
        return None
    return answer if answer in (NATIVE, SHIP) else None


def remember(stamp: str, answer: bytes) -> None:
    """Store `answer` for the package with fingerprint `stamp` in the joined cluster (best effort)."""
    try:
        from ray.experimental import internal_kv

        internal_kv._internal_kv_put(_key(stamp), answer, namespace=_NAMESPACE)
    except Exception:  # noqa: BLE001  # unremembered, the next run asks again
        pass


def forget(stamp: str) -> None:
    """Make the joined cluster forget its answer for fingerprint `stamp` (best effort)."""
    try:
        from ray.experimental import internal_kv

        internal_kv._internal_kv_del(_key(stamp), namespace=_NAMESPACE)
    except Exception:  # noqa: BLE001  # nothing to forget, or not joined
        pass


def worker_fingerprint() -> str:
    """The probe task's body: this worker's fingerprint."""
    return fingerprint()


def probe(ray: ModuleType, stamp: str, timeout: float = PROBE_TIMEOUT) -> bytes | None:
    """Whether a worker of the joined cluster, with no runtime environment, has the package `stamp`: `NATIVE`,
    `SHIP` (another package, or none: the task fails to import), or None when no worker answered in time."""
    try:
        task = ray.remote(num_cpus=0, max_retries=0)(worker_fingerprint)
        return NATIVE if ray.get(task.remote(), timeout=timeout) == stamp else SHIP
    except ray.exceptions.GetTimeoutError:
        return None
    except Exception:  # noqa: BLE001  # no hypermetric there (an import failure), a lost worker
        return SHIP
