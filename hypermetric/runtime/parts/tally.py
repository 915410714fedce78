"""`Tally`: what the summary needs from a set of result rows (rows, failures, per metric its sum, count and
errors), mergeable, so that each part can carry its own in its footer and the final summary is their sum.

Evaluators tally the rows they score, from the Python values they already hold; reconciliation adds the
parts' tallies when no row was recorded twice, and tallies the final table itself only when some were.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.result import columns as cols
from hypermetric.runtime.result.summary import MetricSummary

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(slots=True)
class Tally:
    rows: int = 0
    failed: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # metric (as `eval_errors` names it) -> rows

    def add(self, other: Tally) -> None:
        self.rows += other.rows
        self.failed += other.failed
        for name, value in other.sums.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        _merge_counts(self.counts, other.counts)
        _merge_counts(self.errors, other.errors)

    def add_metric(self, name: str, values: Iterable[float | None]) -> None:
        """Counts one metric column's values (None is a missing value)."""
        present = [value for value in values if value is not None]
        self.sums[name] = self.sums.get(name, 0.0) + math.fsum(present)
        self.counts[name] = self.counts.get(name, 0) + len(present)

    def add_errors(self, row_errors: Iterable[Mapping[str, Any] | None]) -> None:
        """Counts each row's failed metrics (the keys of its `eval_errors`)."""
        for errors in filter(None, row_errors):  # (most rows have none)
            for key in errors:
                self.errors[key] = self.errors.get(key, 0) + 1

    def to_json(self) -> bytes:
        return json.dumps({"rows": self.rows, "failed": self.failed, "sums": self.sums, "counts": self.counts,
                           "errors": self.errors}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Tally:
        value = json.loads(data)
        return cls(int(value["rows"]), int(value["failed"]), {k: float(v) for k, v in value["sums"].items()},
                   {k: int(v) for k, v in value["counts"].items()}, {k: int(v) for k, v in value["errors"].items()})

    def metrics(self) -> tuple[MetricSummary, ...]:
        names = sorted({*self.counts, *(key for key in self.errors if not self._has_column(key))})
        return tuple(MetricSummary(name, self._mean(name), self.counts.get(name, 0), self._errors(name))
                     for name in names)

    def _has_column(self, key: str) -> bool:
        return any(name == key or name.startswith(key + ".") for name in self.counts)

    def _mean(self, name: str) -> float | None:
        count = self.counts.get(name, 0)
        return self.sums[name] / count if count else None

    def _errors(self, name: str) -> int:
        return sum(n for key, n in self.errors.items() if name == key or name.startswith(key + "."))


def _merge_counts(into: dict[str, int], other: Mapping[str, int]) -> None:
    for name, value in other.items():
        into[name] = into.get(name, 0) + value


def tally_table(table: pa.Table) -> Tally:
    """The tally of a result table, read from its columns."""
    import pyarrow as pa

    tally = Tally(table.num_rows, table.num_rows - table[cols.ERROR].null_count)
    for name in table.column_names:
        if cols.is_metric_column(name) and pa.types.is_floating(table.schema.field(name).type):
            tally.add_metric(name, table[name].to_pylist())
    if cols.EVAL_ERRORS in table.column_names:
        tally.add_errors(json.loads(text) for text in table[cols.EVAL_ERRORS].to_pylist() if text is not None)
    return tally
