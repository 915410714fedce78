"""CPU time of an embedded Ray cluster's processes, by kind: the driver (this process, with Ray's threads),
Ray's workers, the job processes the workers waited for, the watchdogs our workers start (nobody's children:
found by the raylet named in their environment) and Ray's daemons. Read from `/proc`; used by `ray_bench.py`.
"""

from __future__ import annotations

import os

_TICK = os.sysconf("SC_CLK_TCK")
_WATCHDOG = b"grace, pause, groups"   # a line of the watchdog's script (execution/watchdog.py)
KINDS = ("driver", "workers", "job processes", "watchdogs", "ray daemons")


def _processes() -> dict[int, tuple[int, list[int], bytes]]:
    """Every process: its parent, its CPU ticks (user, system, waited children's user and system), its
    command line."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read(4096)
        except OSError:
            continue
        table[int(name)] = (int(fields[1]), [int(x) for x in fields[11:15]], cmdline)
    return table


def _started_by(pid: int, raylets: set[str]) -> bool:
    """Whether process `pid` runs under one of `raylets` (a watchdog is nobody's child: it inherits the
    worker's environment, which names the worker's raylet)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return any(v.startswith(b"RAY_RAYLET_PID=") and v[15:].decode() in raylets for v in env)


def cpu_by_kind() -> dict[int, tuple[str, float, float]]:
    """CPU seconds (own, and of the children it has waited for) of each process of the embedded cluster:
    this process, Ray's daemons, its workers, and the watchdogs the workers started."""
    table = _processes()
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in table.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    raylets = {str(pid) for pid in tree if b"raylet" in table[pid][2] and not table[pid][2].startswith(b"ray::")}
    tree.update(pid for pid, (_, _, cmd) in table.items()
                if pid not in tree and _WATCHDOG in cmd and _started_by(pid, raylets))
    out = {}
    for pid in tree:
        _, ticks, cmd = table[pid]
        kind = ("driver" if pid == os.getpid() else "workers" if cmd.startswith(b"ray::")
                else "watchdogs" if _WATCHDOG in cmd else "ray daemons")
        out[pid] = (kind, (ticks[0] + ticks[1]) / _TICK, (ticks[2] + ticks[3]) / _TICK)
    return out


def cpu_spent(before: dict[int, tuple[str, float, float]],
              after: dict[int, tuple[str, float, float]]) -> dict[str, float]:
    """CPU seconds by kind between two `cpu_by_kind` readings; what workers waited for is `job processes`
    (the scripts, and the raw tasks' bash)."""
    spent = dict.fromkeys(KINDS, 0.0)
    for pid, (kind, own, waited) in after.items():
        _, own0, waited0 = before.get(pid, (kind, 0.0, 0.0))
        spent[kind] += own - own0
        spent["job processes" if kind == "workers" else kind] += waited - waited0
    return spent
