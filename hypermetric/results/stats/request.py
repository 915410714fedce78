"""What `results` was asked to compute over its table, checked, and the table of the answer.

The CLI and the Python API build a `StatsRequest` from their options and call `compute`; everything the
statistics decide (which mode, which baseline, what to say about the test and the cases left out) lives
here, so that the command only parses and prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hypermetric.errors import UsageError
from hypermetric.results.stats.bootstrap import Resampling

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class StatsRequest:
    """The statistics options of `results`; with none of `agg`, `ci`, `significance`, `compare` set the
    table is returned as read."""

    agg: tuple[str, ...] = ()
    stats: tuple[str, ...] | None = None
    ci: bool = False
    significance: str | None = None
    baseline: str | None = None
    test: str = "permutation"
    alpha: float = 0.05
    compare: str | None = None
    metrics: tuple[str, ...] | None = None
    id_col: str | None = None
    resampling: Resampling = field(default_factory=Resampling)

    @property
    def active(self) -> bool:
        return bool(self.agg or self.ci or self.significance or self.compare)

    def check(self) -> None:
        """Options that only make sense together, and modes that exclude each other."""
        modes = [name for name, on in (("--agg", self.agg), ("--significance", self.significance),
                                       ("--compare", self.compare)) if on]
        if len(modes) > 1:
            raise UsageError(f"{modes[0]} and {modes[1]} answer different questions: choose one per call")
        if self.baseline is not None and not self.significance:
            raise UsageError("--baseline needs --significance AXIS", help="e.g. --significance Model --baseline bm25")
        if self.stats is not None and not self.agg:
            raise UsageError("--stats chooses the statistics of --agg", help="add --agg AXIS")
        if not 0 < self.alpha < 1:
            raise UsageError(f"--alpha must be between 0 and 1, not {self.alpha}")


@dataclass
class StatsResult:
    """The answer: its table, the columns that identify a row, a title, notes to print under it, and other
    tables to show after it (cases found on one side of a comparison)."""

    table: pa.Table
    keys: list[str]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    extra: list[tuple[str, pa.Table]] = field(default_factory=list)


def compute(table: pa.Table, axes: Sequence[str], request: StatsRequest, *,
            default_keys: Mapping[str, str] | None = None) -> StatsResult:
    """The statistics `request` asks of `table` (a `results` table over `axes`)."""
    request.check()
    if request.significance:
        return _significance(table, axes, request, default_keys)
    if request.compare:
        return _compare(table, axes, request)
    if request.agg:
        return _aggregate(table, axes, request)
    from hypermetric.results.stats.summary import case_cis

    out = case_cis(table, axes, request.metrics, id_col=request.id_col, resampling=request.resampling)
    return StatsResult(out, [*axes, "metric"], _ci_title(request))


def _ci_title(request: StatsRequest) -> str:
    r = request.resampling
    return f"mean with {r.level:.0%} bootstrap interval ({r.resamples} resamples, seed {r.seed})"


def _aggregate(table: pa.Table, axes: Sequence[str], request: StatsRequest) -> StatsResult:
    from hypermetric.results.stats.aggregate import DEFAULT_STATS, aggregate

    stats = list(request.stats or DEFAULT_STATS)
    if request.ci and "ci" not in stats:
        stats.append("ci")
    out = aggregate(table, axes, request.agg, stats, request.metrics, id_col=request.id_col,
                    resampling=request.resampling)
    kept = [a for a in axes if a not in request.agg]
    title = f"over {', '.join(request.agg)}"
    if "ci" in stats:
        title += f"; {_ci_title(request).replace('mean with ', '')} of the mean over cases"
    notes = []
    missing = sum(out.column("missing").to_pylist()) if out.num_rows else 0
    if missing:
        notes.append(f"{missing} values missing (failed or absent cases): counted in `missing`, not averaged")
    return StatsResult(out, [*kept, "metric"], title, notes)


def _significance(table: pa.Table, axes: Sequence[str], request: StatsRequest,
                  default_keys: Mapping[str, str] | None) -> StatsResult:
    from hypermetric.results.stats.perquery import id_column
    from hypermetric.results.stats.pvalues import TEST_NAMES
    from hypermetric.results.stats.significance import axis_keys, significance

    axis = request.significance or ""
    keys = axis_keys(table, axes, axis)
    baseline = request.baseline
    if baseline is None:
        default = (default_keys or {}).get(axis)
        baseline = default if default in keys else keys[0]
    out = significance(table, axes, axis, baseline, metrics=request.metrics, id_col=request.id_col,
                       test=request.test, alpha=request.alpha, resampling=request.resampling)
    per_example = id_column(table, request.id_col) is not None
    others = [a for a in axes if a != axis]
    r = request.resampling
    title = (f"{axis} against {baseline}: {TEST_NAMES[request.test]}, {r.resamples} resamples, seed {r.seed}; "
             f"p_holm: Holm-corrected over the keys compared per metric; * p_holm < {request.alpha:g}")
    notes = []
    if not per_example:
        notes.append(f"no per-example rows: the cases ({', '.join(others) or 'one'}) are the paired examples; "
                     "add --per-query to pair on queries")
    unpaired = sum(out.column("unpaired").to_pylist()) if out.num_rows else 0
    if unpaired:
        notes.append(f"{unpaired} examples had a value on one side only: left out of the pairs, counted in "
                     "`unpaired`")
    keys_ = [*(others if per_example else []), "metric", axis]
    return StatsResult(out, keys_, title, notes)


def _compare(table: pa.Table, axes: Sequence[str], request: StatsRequest) -> StatsResult:
    from hypermetric.results.stats.compare import compare, read_baseline

    path = request.compare or ""
    result = compare(table, read_baseline(path), axes, request.metrics, name=f"`{path}`")
    extra = []
    notes = []
    if result.only_current.num_rows:
        extra.append(("cases only in this table", result.only_current))
        notes.append(f"{result.only_current.num_rows} cases only in this table")
    if result.only_baseline.num_rows:
        extra.append((f"cases only in {path}", result.only_baseline))
        notes.append(f"{result.only_baseline.num_rows} cases only in {path}")
    return StatsResult(result.table, [*axes, "metric"], f"against {path}", notes, extra)
