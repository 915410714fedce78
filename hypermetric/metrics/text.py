"""Answer metrics on short texts: exact match (raw and normalised), SQuAD token F1, and containment.

Each takes `output` (what the system said) and `ground_truth` (one reference, or a list of them, where the
best match counts, as the SQuAD script scores questions with several gold answers). They need no library.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypermetric.metrics.references import as_text, normalize_answer, references
from hypermetric.runtime.scoring.metric import Metric

_COLLECTIONS = (list, tuple, set, frozenset)


class ExactMatch(Metric):
    """1.0 when `output` equals `ground_truth` (or any of a list of them), else 0.0; no normalisation.

    Any values compare, not only texts, so labels and numbers work too.
    """

    def score(self, output: Any, ground_truth: Any) -> float:
        if isinstance(ground_truth, _COLLECTIONS) and not isinstance(output, _COLLECTIONS):
            return float(any(output == item for item in ground_truth))
        return float(output == ground_truth)


class NormalizedExactMatch(Metric):
    """SQuAD exact match: 1.0 when the normalised output equals a normalised reference, else 0.0."""

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        answer = normalize_answer(as_text(output, "output"))
        return float(any(answer == normalize_answer(ref) for ref in references(ground_truth)))


def token_f1(prediction: str, reference: str, *, normalize: bool = True) -> float:
    """The F1 of two texts' tokens as a bag of words (a token repeated counts as often as it appears in
    both); with `normalize`, SQuAD v1.1's, on normalised tokens, else on whitespace-separated tokens as they
    are."""
    if normalize:
        prediction, reference = normalize_answer(prediction), normalize_answer(reference)
    predicted, gold = prediction.split(), reference.split()
    if not predicted or not gold:  # as in the SQuAD v2 script: two empty answers agree, one empty none
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class TokenF1(Metric):
    """Token F1 between the output and the best-matching reference, from 0.0 to 1.0.

    By default SQuAD's, on normalised tokens: "a b" against "a c" scores 0.0, since the article "a" is
    dropped, and "cat sat" against "cat mat" 0.5. `TokenF1(normalize=False)` splits on whitespace only
    ("a b" against "a c" scores 0.5).
    """

    normalize: bool = True

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        answer = as_text(output, "output")
        return max(token_f1(answer, ref, normalize=self.normalize) for ref in references(ground_truth))


@dataclass(frozen=True)
class Contains(Metric):
    """1.0 when a reference occurs in the output, else 0.0.

    With `normalize` (the default) both are normalised as for SQuAD and the reference must occur as whole
    words ("cat" is not in "concatenate"); without it, a plain case-sensitive substring test.
    """

    normalize: bool = True

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        text = as_text(output, "output")
        if not self.normalize:
            return float(any(ref in text for ref in references(ground_truth)))
        padded = f" {normalize_answer(text)} "
        return float(any(f" {normalize_answer(ref)} " in padded for ref in references(ground_truth)))
