"""Common evaluation metrics, each a `Metric` for `@component(evals=[...])` and callable directly:
`TokenF1().score(output="cat sat", ground_truth="cat mat")`.

Text answers: `ExactMatch`, `NormalizedExactMatch`, `TokenF1`, `Contains` (no library needed).
Generated text: `EditSimilarity` (rapidfuzz), `BLEU` and `ChrF` (sacrebleu), `RougeL` (rouge-score).
Rankings: `NDCG(k)`, `Recall(k)`, `Precision(k)`, `MRR`, `MAP` (trec_eval, through pytrec-eval-terrier), over
a ranked list of document ids and a relevance dict.

`Reduction`, `percentile` and `bootstrap_ci` (from `hypermetric.runtime.result.reductions`) are here too, for
`@runtime(reductions=...)`: what the run's summary gives per metric besides its mean.

The libraries are the optional extra `hypermetric[metrics]`. Importing this package loads none of them: each
metric imports its own in `setup()` (once per evaluator process) or at its first score.
"""

from __future__ import annotations

from hypermetric.metrics.overlap import BLEU, ChrF, EditSimilarity, RougeL
from hypermetric.metrics.references import normalize_answer
from hypermetric.metrics.retrieval import MAP, MRR, NDCG, Precision, Recall
from hypermetric.metrics.text import Contains, ExactMatch, NormalizedExactMatch, TokenF1, token_f1
from hypermetric.runtime.result.reductions import Reduction, bootstrap_ci, percentile

__all__ = [
    "BLEU",
    "MAP",
    "MRR",
    "NDCG",
    "ChrF",
    "Contains",
    "EditSimilarity",
    "ExactMatch",
    "NormalizedExactMatch",
    "Precision",
    "Recall",
    "Reduction",
    "RougeL",
    "TokenF1",
    "bootstrap_ci",
    "normalize_answer",
    "percentile",
    "token_f1",
]
