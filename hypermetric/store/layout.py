"""Names of the files in a job directory and the path helpers built on them."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

SCRIPT = "script"
ARGS = "args"
STDOUT = "stdout"
STDERR = "stderr"
EXITCODE = "exitcode"
JOB_JSON = "job.json"
LOCK = ".lock"
MANIFEST = ".manifest.arrow"
RUNS = ".runs"
STATUS_CACHE = ".status"  # the status cache of finished jobs, one file per task folder (store/statuscache.py)
RUN_JOBS = "jobs"

# Names an input or output may not take, because the job protocol writes them itself.
# `job.json` and `.lock` are hypermetric's additions; `script.N` is matched by `is_reserved`.
RESERVED_NAMES: frozenset[str] = frozenset({SCRIPT, ARGS, STDOUT, STDERR, EXITCODE, JOB_JSON, LOCK})
_WRAPPED = re.compile(r"script\.[0-9]+\Z")


def is_reserved(name: str) -> bool:
    """True for the names the job protocol owns: `script`, `script.N`, `args`, `stdout`, ..."""
    return name in RESERVED_NAMES or _WRAPPED.match(name) is not None


def wrapped_script(level: int) -> str:
    """`script.N`: the script a decorator layer at nesting level `level` wraps."""
    return f"script.{level}"


def job_file(job: Job, name: str) -> str:
    """Absolute path of the file `name` in the job's directory."""
    return os.path.join(job.workdir, name)


def output_path(job: Job, relative: str) -> str:
    """Absolute path of an output given by its path relative to the job directory."""
    return os.path.join(job.workdir, relative)


def runs_dir(root: str) -> str:
    """`<root>/.runs`, where the run records live."""
    return os.path.join(root, RUNS)


def hidden_sibling(path: str, tag: str) -> str:
    """A fresh hidden name next to `path` (`.<name>.<tag>-<hex>`), for atomic renames."""
    head, tail = os.path.split(path.rstrip(os.sep))
    return os.path.join(head, f".{tail}.{tag}-{os.urandom(6).hex()}")
