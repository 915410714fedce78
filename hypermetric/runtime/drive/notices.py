"""Word of failing rows as they fail: the first failure of each exception type, printed once per process.

A row whose call raises is retried `max_retries` times, `delay_seconds` apart, and a deterministic error
costs that much for every bad row; without a word, a run then looks stuck. So the first time each type of
exception fails a row, it is printed with what happens next. Workers on Ray each hold their own copy (the
object is sent to them when they are made), so a type may be reported once per worker.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hypermetric.runtime.scoring.context import describe_error

if TYPE_CHECKING:
    from hypermetric.runtime.options import RetryPolicy


class FailureNotices:
    """Prints each exception type's first row failure to stderr (nothing when not `enabled`)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._seen: set[str] = set()

    def failed(self, row_id: int, error: BaseException, retry: RetryPolicy) -> None:
        """Reports a row's first failed attempt, if it is the first of its exception type."""
        kind = type(error).__name__
        if not self.enabled or kind in self._seen:
            return
        self._seen.add(kind)
        if isinstance(error, retry.retry_on) and retry.max_retries:
            then = (f"retrying up to {retry.max_retries} times, {retry.delay_seconds:g}s apart "
                    f"(exception_to_retry, max_retries, delay_seconds)")
        else:
            then = "not retried"
        print(f"hypermetric: row {row_id} failed with {describe_error(error).splitlines()[0]}; {then}. "
              f"Later {kind} failures are not shown; each failed row keeps its error in the `error` column.",
              file=sys.stderr, flush=True)
