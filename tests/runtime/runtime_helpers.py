"""Functions, components and metrics the runtime tests run, in both modes (Ray ships this module by value)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hypermetric.runtime import Dataset, Metric, component


class ExactMatch(Metric):
    def score(self, output: str, expected: str) -> float:
        return float(output == expected)


class Length(Metric):
    def score(self, text: str) -> dict[str, float]:
        return {"chars": len(text), "words": len(text.split())}


class Overlap(Metric):
    def score(self, output: str, query: str) -> float:
        return len(set(output.lower()) & set(query.lower())) / max(len(set(query.lower())), 1)


class Fussy(Metric):
    """Fails for empty outputs, so that metric errors show up in the table and the summary."""

    def score(self, output: str) -> float:
        if not output:
            raise ValueError("empty output")
        return 1.0


@component(evals=[ExactMatch().use(output=component.output(), expected=Dataset.answer),
                  Length().use(text=component.output()),
                  Fussy().use(output=component.output())])
def answer(query: str) -> str:
    return query.upper()


@component(evals=[Overlap().use(output=component.output(), query=component.input("query"))])
def retrieve(query: str, k: int = 2) -> str:
    return " ".join(sorted(query.split())[:k])


def pipeline(query: str) -> str:
    retrieve(query)
    return answer(query)


def records(n: int) -> list[dict[str, object]]:
    return [{"query": f"q{i}" if i % 7 else "", "answer": f"Q{i}" if i % 3 else "nope", "x": i}
            for i in range(n)]


def _first_time(marker_dir: str, name: str) -> bool:
    """True once per (directory, name): the first caller creates the marker file, later ones find it."""
    try:
        fd = os.open(Path(marker_dir) / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def flaky(query: str, marker_dir: str) -> str:
    """Fails with a ConnectionError on each row's first attempt, then succeeds."""
    if _first_time(marker_dir, f"flaky-{query or 'empty'}"):
        raise ConnectionError(f"transient failure for {query!r}")
    return query.upper()


def picky(x: int, marker_dir: str) -> int:
    """First attempt: even rows raise ValueError, odd rows KeyError; later attempts succeed."""
    if _first_time(marker_dir, f"picky-{x}"):
        raise ValueError(f"even {x}") if x % 2 == 0 else KeyError(f"odd {x}")
    return x * 10


def square_or_fail(x: int, fail_on: int) -> int:
    if x == fail_on:
        raise RuntimeError(f"row {x} is broken")
    return x * x


def crash_worker_once(x: int, marker_dir: str, at: int) -> int:
    """Kills the worker process the first time row `at` runs (its marker does not exist yet)."""
    if x == at and _first_time(marker_dir, "worker-crashed"):
        os._exit(1)
    return x * 2


class CrashOnce(Metric):
    """Kills the evaluator process the first time it scores the value `at`."""

    def __init__(self, marker_dir: str, at: int) -> None:
        self.marker_dir = marker_dir
        self.at = at

    def score(self, value: int) -> float:
        if value == self.at and _first_time(self.marker_dir, "evaluator-crashed"):
            os._exit(1)
        return value / 2


def make_doubled(marker_dir: str, at: int):  # noqa: ANN201 - returns a Component
    @component(evals=[CrashOnce(marker_dir, at).use(value=component.output())])
    def doubled(x: int) -> int:
        return x * 2

    return doubled


class Slow(Metric):
    def score(self, value: int) -> float:
        time.sleep(0.0005)
        return float(value)


@component(evals=[Slow().use(value=component.output())])
def identity(x: int) -> int:
    return x


class Parity(Metric):
    def score(self, value: int) -> float:
        return float(value % 2)


@component(evals=[Parity().use(value=component.output())])
def cheap(x: int) -> int:
    return x


def _refuse_to_load() -> None:
    raise ImportError("this function only exists on the driver")


class DriverOnly:
    """A callable that pickles, but that no other process can unpickle (like a function from a module the
    workers cannot import)."""

    def __call__(self, x: int) -> int:
        return x

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_refuse_to_load, ())


def rendezvous(x: int, directory: str, parties: int) -> int:
    """Waits (up to 30 s) until `parties` processes have called it: proof that they run at the same time."""
    os.makedirs(directory, exist_ok=True)
    open(os.path.join(directory, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 30
    while len(os.listdir(directory)) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(os.listdir(directory))} of {parties} workers ever ran at once")
        time.sleep(0.01)
    return x


def exits_or_crashes(x: int, exit_at: int, crash_at: int) -> int:
    """Row `exit_at` calls `sys.exit(3)`; row `crash_at` kills its worker process, every time it runs."""
    import sys

    if x == exit_at:
        sys.exit(3)
    if x == crash_at:
        os._exit(1)
    return x + 100


def same_metrics(a: dict, b: dict) -> bool:
    """Whether two runs' metric summaries agree. A mean adds per-batch tallies, and the batches of a run on
    Ray or with other workers are added in another order, so the means may differ in the last bits; every
    other field must be equal."""
    import math
    from dataclasses import replace

    if a.keys() != b.keys():
        return False
    for name, summary in a.items():
        other = b[name]
        if (summary.mean is None) != (other.mean is None):
            return False
        if summary.mean is not None and not math.isclose(summary.mean, other.mean, rel_tol=1e-12, abs_tol=1e-15):
            return False
        if replace(summary, mean=other.mean) != other:
            return False
    return True
