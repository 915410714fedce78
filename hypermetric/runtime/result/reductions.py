"""Reductions: the numbers a run's summary gives for each metric besides its mean, chosen per metric.

`@runtime(reductions=...)` takes a list of reductions for every metric, or a dict from a metric to its list:
the key is a result column (`answer.TokenF1`, or `answer.Length.chars` for one key of a dict-valued metric), a
metric name (`TokenF1`, for that metric in every component) or `"*"` (any other metric); the most specific key
wins. A reduction is a name ("mean", "median", "std", "min", "max", "p90" for a percentile, "ci" or "ci90"
for a bootstrap confidence interval of the mean), one of the functions below (`percentile(99.5)`,
`bootstrap_ci(level=0.9, resamples=5000)`), or any function of a NumPy array of the metric's values that
returns a number or a dict of numbers (`Reduction("name", fn)` names a lambda).

The values are the metric's column in the final table with missing values (rows it did not score) left out.
Reductions run once, after the run, on the final table, so that a median or a percentile sees every row, not
partial results merged. NumPy is imported only then.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BOOTSTRAP_CHUNK_ELEMENTS = 1 << 22  # resampled values drawn at once: memory stays ~32 MiB whatever the rows


@dataclass(frozen=True)
class Reduction:
    """A named function from a metric's values (a 1-D float array, never empty) to a number or a dict of
    numbers; a dict's keys extend the name (`ci95.low`). `keys` names those keys in advance, so that a metric
    with no value still shows them."""

    name: str
    fn: Callable[[np.ndarray], Any]
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a reduction needs a name, not {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"reduction {self.name!r}: {self.fn!r} is not callable")

    def apply(self, values: np.ndarray) -> dict[str, float | None]:
        """The reduction's labelled numbers for `values`; None for each when there is no value."""
        if len(values) == 0:
            return {self._label(key): None for key in self.keys} if self.keys else {self.name: None}
        result = self.fn(values)
        if isinstance(result, Mapping):
            return {self._label(str(key)): _number(self.name, item) for key, item in result.items()}
        return {self.name: _number(self.name, result)}

    def _label(self, key: str) -> str:
        return f"{self.name}.{key}"


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise TypeError(f"reduction {name!r} returned {type(value).__name__}, expected a number")
    return float(value)


def mean() -> Reduction:
    return Reduction("mean", lambda values: values.mean())


def median() -> Reduction:
    import numpy as np

    return Reduction("median", np.median)


def std(ddof: int = 1) -> Reduction:
    """The standard deviation; by default the sample's (ddof=1), NaN for a single value."""
    return Reduction("std", lambda values: values.std(ddof=ddof) if len(values) > ddof else math.nan)


def minimum() -> Reduction:
    return Reduction("min", lambda values: values.min())


def maximum() -> Reduction:
    return Reduction("max", lambda values: values.max())


def percentile(q: float) -> Reduction:
    """The q-th percentile (0 to 100), linearly interpolated as NumPy does by default; named `p{q}`."""
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 100:
        raise ValueError(f"a percentile must be a number from 0 to 100, not {q!r}")
    import numpy as np

    return Reduction(f"p{q:g}", lambda values: np.percentile(values, q))


def bootstrap_ci(level: float = 0.95, resamples: int = 1000, seed: int = 0,
                 statistic: str = "mean") -> Reduction:
    """A percentile bootstrap confidence interval of the mean (or median), `ci{level}.low` and `.high`:
    `resamples` samples of the values drawn with replacement (seeded, so the interval is reproducible)."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"a confidence level must be between 0 and 1, not {level!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ValueError(f"resamples must be a positive integer, not {resamples!r}")
    if statistic not in ("mean", "median"):
        raise ValueError(f"the bootstrap statistic must be 'mean' or 'median', not {statistic!r}")
    return Reduction(f"ci{level * 100:g}",
                     lambda values: bootstrap_interval(values, level, resamples, seed, statistic),
                     keys=("low", "high"))


def bootstrap_interval(values: np.ndarray, level: float, resamples: int, seed: int,
                       statistic: str = "mean") -> dict[str, float]:
    """The percentile bootstrap interval of `statistic` over `values`, vectorised: resamples are drawn as
    index matrices a chunk at a time, so memory stays bounded for any number of values."""
    import numpy as np

    rng = np.random.default_rng(seed)
    count = len(values)
    estimates = np.empty(resamples)
    chunk = max(1, BOOTSTRAP_CHUNK_ELEMENTS // count)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        sample = values[rng.integers(0, count, size=(stop - start, count))]
        estimates[start:stop] = sample.mean(axis=1) if statistic == "mean" else np.median(sample, axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return {"low": float(low), "high": float(high)}


_NAMED: dict[str, Callable[[], Reduction]] = {"mean": mean, "median": median, "std": std, "min": minimum,
                                              "max": maximum}
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")
_INTERVAL = re.compile(r"ci(\d+(?:\.\d+)?)?")


def reduction(value: Any) -> Reduction:
    """A reduction from its name, a `Reduction`, or a function (named after the function)."""
    if isinstance(value, Reduction):
        return value
    if isinstance(value, str):
        return _named(value)
    if callable(value):
        name = getattr(value, "__name__", "")
        if not name or name == "<lambda>":
            raise ValueError("name a lambda used as a reduction: Reduction('name', fn)")
        return Reduction(name, value)
    raise TypeError(f"a reduction is a name, a Reduction or a function, not {value!r}")


def _named(name: str) -> Reduction:
    if name in _NAMED:
        return _NAMED[name]()
    if match := _PERCENTILE.fullmatch(name):
        return percentile(float(match.group(1)))
    if match := _INTERVAL.fullmatch(name):
        return bootstrap_ci(level=float(match.group(1) or 95) / 100)
    raise ValueError(f"unknown reduction {name!r}: use {', '.join(_NAMED)}, pNN (a percentile), ci or ciNN "
                     "(a bootstrap interval), or a function")


@dataclass(frozen=True)
class Reductions:
    """The `reductions=` option, checked: reductions by key (a column, a metric name, or "*")."""

    by_key: tuple[tuple[str, tuple[Reduction, ...]], ...]

    @classmethod
    def parse(cls, value: Any) -> Reductions:
        if isinstance(value, Mapping):
            pairs = [(key, value[key]) for key in value]
        else:
            pairs = [("*", value)]
        checked = []
        for key, items in pairs:
            if not isinstance(key, str) or not key:
                raise TypeError(f"reductions are keyed by metric name or column, not {key!r}")
            checked.append((key, _reduction_list(key, items)))
        return cls(tuple(checked))

    def for_column(self, column: str) -> tuple[Reduction, ...]:
        """The reductions of the most specific key that matches a metric column (none if no key matches)."""
        best = max(((rank, items) for key, items in self.by_key if (rank := _match(key, column)) is not None),
                   key=lambda pair: pair[0], default=None)
        return () if best is None else best[1]

    def unmatched(self, columns: Iterable[str]) -> list[str]:
        """The keys (other than "*") that name no metric column: most likely typos."""
        columns = list(columns)
        return [key for key, _ in self.by_key
                if key != "*" and not any(_match(key, column) is not None for column in columns)]


def _reduction_list(key: str, items: Any) -> tuple[Reduction, ...]:
    if isinstance(items, (str, Reduction)) or callable(items):
        items = [items]
    if not isinstance(items, Sequence):
        raise TypeError(f"the reductions for {key!r} must be a list, not {items!r}")
    reductions = tuple(reduction(item) for item in items)
    names = [item.name for item in reductions]
    if len(set(names)) != len(names):
        raise ValueError(f"the reductions for {key!r} repeat a name: {', '.join(names)}")
    return reductions


def _match(key: str, column: str) -> tuple[int, int] | None:
    """How specifically `key` names a metric column `component.Metric[.key]`: a whole column or a prefix of
    one beats a metric name without its component, a longer key beats a shorter, and "*" comes last."""
    if key == "*":
        return (0, 0)
    if column == key or column.startswith(key + "."):
        return (2, len(key))
    metric = column.split(".", 1)[-1]
    if metric == key or metric.startswith(key + "."):
        return (1, len(key))
    return None
