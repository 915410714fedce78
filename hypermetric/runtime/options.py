"""The options of a run: `RuntimeOptions` (what `@runtime(...)` takes, checked when the decorator is applied)
and `RetryPolicy` (the part of them a worker needs to retry a failing row).

They live apart from the decorators that take them and the code that runs with them, so that both can import
them without importing each other.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypermetric.runtime.data.dataset import Dataset
from hypermetric.runtime.result.reductions import Reductions


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """The options of `@runtime`; see `runtime` for their meaning."""

    workers: int = 4
    max_runs: float = math.inf
    max_retries: int = 3
    delay_seconds: float = 5.0
    exception_to_retry: type[BaseException] | tuple[type[BaseException], ...] = Exception
    batch_size: int | None = None
    parallel: bool = True
    dataset: Dataset | None = None
    output_dir: str | os.PathLike[str] | None = None
    evaluators: int | None = None
    max_in_flight: int | None = None
    flush_rows: int = 10_000
    flush_bytes: int = 32 * 2**20
    resume: bool = True
    quiet: bool = False
    progress: Callable[[Any], None] | None = None
    num_cpus: float | None = None
    reductions: Any = None

    def __post_init__(self) -> None:
        for name in ("workers", "flush_rows", "flush_bytes"):
            _require_int(name, getattr(self, name), minimum=1)
        _require_int("max_retries", self.max_retries, minimum=0)
        for name in ("batch_size", "max_in_flight"):
            if getattr(self, name) is not None:
                _require_int(name, getattr(self, name), minimum=1)
        if self.evaluators is not None:
            _require_int("evaluators", self.evaluators, minimum=0)
        if self.num_cpus is not None and (isinstance(self.num_cpus, bool) or
                                          not isinstance(self.num_cpus, (int, float)) or self.num_cpus < 0):
            raise ValueError(f"num_cpus must be a number >= 0, not {self.num_cpus!r}")
        if not (self.max_runs == math.inf or (isinstance(self.max_runs, int) and self.max_runs >= 1)):
            raise ValueError(f"max_runs must be a positive integer or math.inf, not {self.max_runs!r}")
        if not isinstance(self.delay_seconds, (int, float)) or self.delay_seconds < 0:
            raise ValueError(f"delay_seconds must be a number >= 0, not {self.delay_seconds!r}")
        self.retry_on()
        if self.reductions is not None:
            Reductions.parse(self.reductions)
        if self.dataset is not None and not isinstance(self.dataset, Dataset):
            raise TypeError(f"dataset must be a hypermetric Dataset, not {type(self.dataset).__name__}")

    def retry_on(self) -> tuple[type[BaseException], ...]:
        """`exception_to_retry` as a tuple of exception classes."""
        value = self.exception_to_retry
        classes = value if isinstance(value, tuple) else (value,)
        if not classes or not all(isinstance(c, type) and issubclass(c, BaseException) for c in classes):
            raise TypeError(f"exception_to_retry must be an exception class or a tuple of them, "
                            f"not {value!r}")
        return classes


def _require_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which exceptions make a row run again, how often, and after what pause."""

    max_retries: int
    delay_seconds: float
    retry_on: tuple[type[BaseException], ...]
