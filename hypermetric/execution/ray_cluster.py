"""Joining Ray for the Ray backend, and turning a job's `Resources` into Ray task options.

`connect` reuses a Ray this process has already initialised (a library caller's, or a test session's); else it
joins the cluster the caller names (`--ray-address`, else `RAY_ADDRESS`), shipping the hypermetric package to the
workers as a runtime environment (`py_modules`) unless they already have this very package (`ray_package`),
so nothing has to be installed on the nodes beyond Ray; else it starts an embedded local Ray
(`address="local"`: never a cluster that `ray start` left running). Ray is imported by the callers, only when
the Ray backend is chosen.

Before joining, the cluster's address gets one plain TCP connection with a timeout, and what answers must
speak gRPC: Ray itself retries an address nobody answers on for minutes, and one where something else
listens for ever, repeating its own message, while a closed port, an unknown host or the wrong port is a
mistake the user should hear about at once.
"""

from __future__ import annotations

import logging
import os
import socket
from types import ModuleType

from hypermetric.errors import UsageError
from hypermetric.execution import ray_package
from hypermetric.execution.choice import cluster_address
from hypermetric.plan.job import Resources

_EPS = 1e-9
_QUIET = {"log_to_driver": False, "logging_level": logging.ERROR}
PROBE_TIMEOUT = 10.0
_GCS_PORT = 6379       # Ray's default port of the head node's GCS
_CLIENT_PORT = 10001   # Ray Client's default port (`ray://` addresses)
SLOT = "hypermetric_slot"  # an embedded Ray has `-j` of these: one per runner (`RayBackend`)
PLAIN = Resources()        # the kind of job that runners run


def package_runtime_env() -> dict[str, object]:
    """The runtime environment that puts this hypermetric package on every worker's path."""
    return {"py_modules": [ray_package.PACKAGE],
            "excludes": ["__pycache__", "*.pyc"]}


def connect(ray: ModuleType, jobs: int = 1, address: str | None = None) -> tuple[str, bool, str | None]:
    """The cluster's GCS address; whether this call initialised Ray (so `close` must shut it down); and the
    package fingerprint that each job's worker must have, when the package is not shipped to a cluster
    (None where every worker runs this process's package). `address` names the cluster to join; without it,
    `RAY_ADDRESS` does (`choice.cluster_address`).

    An embedded Ray gets at least `jobs` CPU slots, so that `-j N` jobs of one CPU each run at once even on a
    machine with fewer cores (Ray would otherwise queue all but as many jobs as it counts cores), and exactly
    `jobs` `SLOT`s, so that Ray runs no more plain jobs at once than `-j` even with more cores."""
    if ray.is_initialized():
        return ray.get_runtime_context().gcs_address, False, None
    address = cluster_address(address) or ""
    if address:
        check_reachable(address)
    expected = None
    try:
        if address:
            expected = _join(ray, address)
        else:
            ray.init(address="local", include_dashboard=False, num_cpus=max(jobs, os.cpu_count() or 1),
                     resources={SLOT: max(1, jobs)}, **_QUIET)
    except (OSError, RuntimeError, ValueError) as e:  # (OSError: a socket path too long, say)
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise UsageError(f"cannot start or join {where}: {e}",
                         help="check --ray-address / RAY_ADDRESS, or use --backend local") from None
    return ray.get_runtime_context().gcs_address, True, expected


def _join(ray: ModuleType, address: str) -> str | None:
    """Join the cluster at `address`, with the package shipped unless its workers have it (then its
    fingerprint, which each job checks; else None). A cluster that does not know is asked once."""
    stamp = ray_package.fingerprint()
    known = ray_package.remembered(address, stamp)
    if known == ray_package.SHIP or (known is None and "://" in address):
        ray.init(address=address, runtime_env=package_runtime_env(), **_QUIET)
        return None
    ray.init(address=address, **_QUIET)
    if known == ray_package.NATIVE:
        return stamp
    found = ray_package.probe(ray, stamp)
    if found is not None:  # no answer in time is not remembered: the next run asks again
        ray_package.remember(stamp, found)
    if found == ray_package.NATIVE:
        return stamp
    ray.shutdown()
    ray.init(address=address, runtime_env=package_runtime_env(), **_QUIET)
    return None


def started_here(ray: ModuleType) -> bool:
    """Whether `ray.init` of this process started the Ray it is connected to, so that every worker runs on
    this machine (not a cluster it joined, not a Ray Client). Ray says so only in a private attribute; a
    version without it gets no."""
    node = getattr(getattr(ray, "_private", None), "worker", None)
    node = getattr(node, "_global_node", None)
    return bool(getattr(node, "ray_init_cluster", False)) and bool(getattr(node, "head", False))


def endpoint(address: str) -> tuple[str, int] | None:
    """The host and port that `address` (`HOST[:PORT]`, `[IPv6]:PORT`, `ray://HOST[:PORT]`) names; None for
    the addresses Ray resolves itself (`auto`, `local`)."""
    if address in ("auto", "local"):
        return None
    port = _GCS_PORT
    if "://" in address:
        scheme, _, address = address.partition("://")
        port = _CLIENT_PORT if scheme == "ray" else port
    address = address.split("/", 1)[0]
    host, sep, tail = address.rpartition(":")
    if not sep or not tail.isdigit() or (host.count(":") and not host.startswith("[")):
        host, tail = address, ""   # no port (or a bare IPv6 address)
    if tail:
        port = int(tail)
    return host.strip("[]"), port


def check_reachable(address: str, timeout: float = PROBE_TIMEOUT) -> None:
    """A `UsageError` naming `address` unless a TCP connection to it succeeds within `timeout` seconds and
    what answers there speaks gRPC (as a Ray head's GCS and its client server do), which it must show within
    another `timeout` seconds."""
    target = endpoint(address)
    if target is None:
        return
    try:
        conn = socket.create_connection(target, timeout=timeout)
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise UsageError(f"cannot reach the Ray cluster at {address} ({why})",
                         help="check that the cluster is running (`ray status` on its head node) and that "
                              "--ray-address / RAY_ADDRESS names its head as HOST:PORT; or run with "
                              "--backend local") from None
    with conn:
        if _tls() or _speaks_grpc(conn, timeout):
            return
    raise UsageError(f"cannot join the Ray cluster at {address}: something listens there, but it is not a Ray "
                     f"head (no gRPC answer within {timeout:g} s)",
                     help=f"--ray-address / RAY_ADDRESS must name the head node's GCS port ({_GCS_PORT} unless "
                          f"`ray start --port` chose another) or its client server as ray://HOST:{_CLIENT_PORT}; "
                          "or run with --backend local")


# The HTTP/2 client preface and an empty SETTINGS frame. Every HTTP/2 server (gRPC is one) answers with a
# SETTINGS frame of its own; anything else (an HTTP/1 server, a database, a listener that never replies) does
# not, and Ray would retry it for ever instead of failing.
_H2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_FRAME_HEADER = 9
_SETTINGS = 4


def _speaks_grpc(conn: socket.socket, timeout: float) -> bool:
    """Whether the server at the other end of `conn` answers the HTTP/2 preface with a SETTINGS frame."""
    conn.settimeout(timeout)
    header = b""
    try:
        conn.sendall(_H2_HELLO)
        while len(header) < _FRAME_HEADER:
            data = conn.recv(_FRAME_HEADER - len(header))
            if not data:
                return False
            header += data
    except OSError:
        return False
    return header[3] == _SETTINGS


def _tls() -> bool:
    """Whether Ray is set to speak TLS, which the preface above, sent in the clear, cannot get through."""
    return os.environ.get("RAY_USE_TLS", "").strip().lower() in ("1", "true", "yes")


def task_options(res: Resources) -> dict[str, object]:
    """Ray task options for one job: `num_cpus`, `num_gpus`, `memory` (bytes) and custom `resources`."""
    options: dict[str, object] = {"num_cpus": res.cpus, "num_gpus": res.gpus}
    if res.memory > 0:
        options["memory"] = res.memory
    if res.custom:
        options["resources"] = dict(res.custom)
    return options


def runner_options(slotted: bool) -> dict[str, object]:
    """The task options of a runner (`ray_pull`): a plain job's, with one `SLOT` on the Ray `connect` started
    (`slotted`)."""
    options = task_options(PLAIN)
    if slotted:
        options["resources"] = {SLOT: 1.0}
    return options


def runner_host(ray: ModuleType, here: bool) -> str | None:
    """Where the driver listens for runners (`ray_pull`): None for a Unix socket, on a Ray this process
    started (`here`: every worker runs on this machine); else the address Ray knows this node by."""
    return None if here else str(ray.util.get_node_ip_address())


def runners_usable(ray: ModuleType) -> bool:
    """Whether runners could reach the driver: not through Ray Client (the driver is elsewhere, often behind
    a NAT), and not where Ray speaks TLS (the runners' socket would carry jobs in the clear)."""
    client = getattr(getattr(getattr(ray, "util", None), "client", None), "ray", None)
    return not _tls() and not (client is not None and client.is_connected())


def runner_capacity(ray: ModuleType, jobs: int, slotted: bool) -> int:
    """How many runners Ray could run at once, at most `jobs`: no more are asked for."""
    have = ray.cluster_resources()
    fits = int(have.get("CPU", 0) / PLAIN.cpus + _EPS)
    if slotted:
        fits = min(fits, int(have.get(SLOT, jobs)))
    return max(1, min(jobs, fits))


def demand(res: Resources) -> dict[str, float]:
    """What one job needs, by Ray resource name (only the non-zero amounts)."""
    need = {"CPU": res.cpus, "GPU": res.gpus, "memory": float(res.memory), **dict(res.custom)}
    return {name: amount for name, amount in need.items() if amount > 0}


def unplaceable(res: Resources, nodes: list[dict[str, float]]) -> str | None:
    """Why no node of the cluster (`nodes`: each alive node's total resources) can run the job, or None."""
    need = demand(res)
    if not nodes or any(all(node.get(k, 0.0) + _EPS >= v for k, v in need.items()) for node in nodes):
        return None
    wanted = ", ".join(f"{k}={_amount(k, v)}" for k, v in sorted(need.items()))
    largest = ", ".join(f"{k}={_amount(k, max(n.get(k, 0.0) for n in nodes))}" for k in sorted(need))
    return f"no node of the Ray cluster has {wanted} (the most any node has: {largest})"


def _amount(name: str, value: float) -> str:
    if name == "memory":
        return f"{value / 2**30:.1f}GiB"
    return f"{value:g}"


def alive_nodes(ray: ModuleType) -> list[dict[str, float]]:
    """The total resources of every alive node."""
    return [dict(node.get("Resources", {})) for node in ray.nodes() if node.get("Alive")]
