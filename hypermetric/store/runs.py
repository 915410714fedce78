"""Run records: `<root>/.runs/<YYYY-MM-DD_HH-MM-SS>[_N]/jobs`, one job id per line, as HyperMake writes them.

Each line is a job id exactly as the planner names it, so a record can be parsed back into tasks and cases
(`parse_job_id`, from the one naming rule in `hypermetric.model.case`); a run that starts within the same second
as another gets the suffix `_2`, `_3`, ... so that no record overwrites another.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable
from itertools import islice
from typing import TextIO

from hypermetric.errors import about_path
from hypermetric.model.case import parse_job_id
from hypermetric.store.layout import RUN_JOBS, runs_dir

__all__ = ["parse_job_id", "read_run_records", "run_names", "write_run_record"]

_BLOCK = 1024
_RUN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})(?:_(\d+))?\Z")


def write_run_record(root: str, job_ids: Iterable[str], *, now: float | None = None) -> str:
    """Write the ids (in execution order) to a fresh run directory; returns the path of its `jobs` file.

    The directory is named after the local time; `_2`, `_3`, ... is added when that name is taken.
    """
    base = runs_dir(root)
    os.makedirs(base, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    n = 1
    while True:
        folder = os.path.join(base, stamp if n == 1 else f"{stamp}_{n}")
        try:
            os.mkdir(folder)
            break
        except FileExistsError:
            n += 1
    path = os.path.join(folder, RUN_JOBS)
    try:
        with about_path(path), open(path, "w", encoding="utf-8") as f:
            _write_lines(f, job_ids)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # no half-written record (a full disk) is left behind
        raise
    return path


def _write_lines(f: TextIO, lines: Iterable[str]) -> None:
    """`lines` joined by newlines, a block at a time: a million ids never become one string."""
    it = iter(lines)
    sep = ""
    while block := list(islice(it, _BLOCK)):
        f.write(sep + "\n".join(block))
        sep = "\n"


def read_run_records(root: str) -> list[list[str]]:
    """The job ids of every run record under `root`, oldest first; empty lines are dropped."""
    base = runs_dir(root)
    records = []
    for name in run_names(root):
        try:
            with open(os.path.join(base, name, RUN_JOBS), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        records.append([line for line in text.split("\n") if line.strip()])
    return records


def run_names(root: str) -> list[str]:
    """The names of the run folders under `<root>/.runs`, oldest first."""
    try:
        names = os.listdir(runs_dir(root))
    except OSError:
        return []
    keyed = []
    for name in names:
        match = _RUN_NAME.match(name)
        if match:
            keyed.append(((match.group(1), int(match.group(2) or 1)), name))
    return [name for _, name in sorted(keyed)]
