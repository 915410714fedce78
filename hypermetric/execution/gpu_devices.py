"""The machine's GPUs and how the local runner hands them out to jobs (see `execution.local`)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess

_EPS = 1e-9


def detect_gpus() -> int:
    """`HYPERMETRIC_GPUS` if set, else the number of `GPU n:` lines of `nvidia-smi -L`, else 0."""
    override = os.environ.get("HYPERMETRIC_GPUS", "").strip()
    if override:
        return max(0, int(override))
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def pick_devices(load: list[float], want: float) -> tuple[list[int], float]:
    """The devices for a job wanting `want` GPUs, given each device's share in use, and the share it takes.

    `ceil(want)` whole devices, the least used first, when `want >= 1`; every device when `want` is at least
    their number; for a fraction, the fullest device it still fits on (else the least used one).
    """
    total = len(load)
    if want >= total:
        return list(range(total)), 1.0
    if want >= 1:
        count = math.ceil(want - _EPS)
        return sorted(sorted(range(total), key=lambda d: (load[d], d))[:count]), 1.0
    fits = [d for d in range(total) if load[d] + want <= 1.0 + _EPS]
    if fits:
        return [max(fits, key=lambda d: (load[d], -d))], want
    return [min(range(total), key=lambda d: (load[d], d))], want

