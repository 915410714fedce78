"""Two-sided p-values of paired differences, vectorised over resamples, and Holm's correction.

- `permutation` (paired randomization test): under the null hypothesis the two systems are exchangeable on
  each example, so each difference keeps or flips its sign with probability 1/2. The p-value is the share of
  sign-flipped means at least as far from 0 as the observed mean, counting the observed one
  ((1 + hits) / (1 + resamples), so it is never 0). Recommended for IR evaluation (Smucker et al., 2007).
- `bootstrap` (paired bootstrap test): the differences are resampled with replacement and shifted to mean 0;
  the p-value is the share of resampled means at least as far from 0 as the observed mean, counted the same
  way.

Every column of the (n x k) difference matrix uses the same resamples, so k comparisons on the same
examples cost one random matrix. Sign flips are random bits, drawn a byte (8 examples) at a time; the sum of
4 differences under each of the 16 sign patterns of a half byte is tabulated once, so a resample's flipped
sum is n/4 table look-ups instead of n multiplications. (Half bytes rather than whole ones: a table of 16
sums per 4 examples stays in the CPU's cache where one of 256 sums per 8 does not, which made the test 3x
faster on 10,000 examples.)
"""

from __future__ import annotations

import numpy as np

from hypermetric.errors import UsageError
from hypermetric.results.stats.bootstrap import Resampling, resampled_means
from hypermetric.suggest import help_did_you_mean

TESTS = ("permutation", "bootstrap")
TEST_NAMES = {"permutation": "paired randomization test", "bootstrap": "paired bootstrap test"}
_CHUNK_CELLS = 1 << 18
# _PATTERNS[v, i]: whether half byte v flips the i-th of its 4 examples (the highest bit is the first).
_PATTERNS = np.unpackbits(np.arange(16, dtype=np.uint8)[:, None], axis=1)[:, 4:].astype(np.float64)  # (16, 4)


def check_test(name: str) -> str:
    """`name` if it is one of `TESTS`, else a usage error."""
    if name not in TESTS:
        raise UsageError(f"unknown test `{name}`", help=help_did_you_mean(name, TESTS)
                         or "choose `permutation` (paired randomization) or `bootstrap`")
    return name


def paired_pvalues(diffs: np.ndarray, test: str = "permutation", resampling: Resampling = Resampling(), *,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """Two-sided p-values (k,) for the mean of each column of the (n x k) paired differences being 0."""
    diffs = np.asarray(diffs, dtype=np.float64)
    if diffs.ndim == 1:
        diffs = diffs[:, None]
    n, k = diffs.shape
    if n == 0:
        return np.full(k, np.nan)
    rng = rng or resampling.rng()
    observed = diffs.mean(axis=0)
    # Sums of many terms carry rounding error: a resampled mean equal to the observed one in exact
    # arithmetic must still count as a hit.
    slack = 1e-9 * np.abs(diffs).mean(axis=0)
    if check_test(test) == "permutation":
        hits = _sign_flip_hits(diffs, observed, slack, resampling.resamples, rng)
    else:
        means = resampled_means(diffs, resampling, rng)
        hits = (np.abs(means - observed) >= np.abs(observed) - slack).sum(axis=0)
    return (1 + hits) / (1 + resampling.resamples)


def _sign_flip_hits(diffs: np.ndarray, observed: np.ndarray, slack: np.ndarray, resamples: int,
                    rng: np.random.Generator) -> np.ndarray:
    """How many random sign flips give a mean at least as far from 0 as `observed`, per column."""
    n, k = diffs.shape
    blocks = (n + 7) // 8
    padded = np.zeros((blocks * 8, k))
    padded[:n] = diffs
    # tables[j][32 * block + 16 * half + pattern]: the sum of the differences of one half of a block (its
    # first 4 examples, then its last 4) whose bit is set in the pattern.
    tables = [(padded[:, j].reshape(blocks * 2, 4) @ _PATTERNS.T).ravel() for j in range(k)]
    first_half = np.arange(blocks, dtype=np.intp) * 32
    second_half = first_half + 16
    totals = diffs.sum(axis=0)
    step = max(1, _CHUNK_CELLS // blocks)
    hits = np.zeros(k, np.int64)
    for start in range(0, resamples, step):
        rows = min(step, resamples - start)
        signs = rng.integers(0, 256, size=(rows, blocks), dtype=np.uint8)
        first, second = (signs >> 4) + first_half, (signs & 15) + second_half
        flipped = np.column_stack([np.take(table, first).sum(axis=1) + np.take(table, second).sum(axis=1)
                                   for table in tables])
        means = (totals - 2 * flipped) / n  # a flipped difference counts -d instead of +d
        hits += (np.abs(means) >= np.abs(observed) - slack).sum(axis=0)
    return hits


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN left as NaN), in the input's order."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = len(present)
    if m == 0:
        return out
    order = present[np.argsort(p[present], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out
