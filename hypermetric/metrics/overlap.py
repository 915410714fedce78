"""Similarity of generated text to references, from well-kept libraries: edit similarity (rapidfuzz),
sentence BLEU and chrF (sacrebleu), and ROUGE-L (rouge-score).

Each returns its library's number on its library's scale: BLEU and chrF from 0 to 100, as sacrebleu prints
them and papers report them; edit similarity and ROUGE-L from 0 to 1. The library objects are built once per
process and configuration (`functools.cache`), never pickled with the metric.

BLEU here is sentence BLEU, one value per row; corpus BLEU, computed from the whole corpus' n-gram counts,
is not the mean of sentence BLEU.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from hypermetric.metrics._libraries import library
from hypermetric.metrics.references import as_text, normalize_answer, references
from hypermetric.runtime.scoring.metric import Metric


def _levenshtein() -> Any:
    return library("rapidfuzz.distance.Levenshtein", "rapidfuzz", "EditSimilarity")


@dataclass(frozen=True)
class EditSimilarity(Metric):
    """Normalised Levenshtein similarity, 1 - distance / length of the longer text, against the best
    reference (rapidfuzz's `Levenshtein.normalized_similarity`); `normalize` compares SQuAD-normalised
    texts."""

    normalize: bool = False

    def setup(self) -> None:
        _levenshtein()

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        similarity = _levenshtein().normalized_similarity
        text = as_text(output, "output")
        refs = references(ground_truth)
        if self.normalize:
            text, refs = normalize_answer(text), [normalize_answer(ref) for ref in refs]
        return max(float(similarity(text, ref)) for ref in refs)


@functools.cache
def _bleu(tokenize: str, smooth_method: str, smooth_value: float | None, lowercase: bool) -> Any:
    sacrebleu = library("sacrebleu.metrics", "sacrebleu", "BLEU")
    return sacrebleu.BLEU(tokenize=tokenize, smooth_method=smooth_method, smooth_value=smooth_value,
                          lowercase=lowercase, effective_order=True)


@dataclass(frozen=True)
class BLEU(Metric):
    """Sentence BLEU of the output against the references, 0 to 100 (sacrebleu's `sentence_score`, with
    effective order, as sacrebleu recommends for single sentences). The options are sacrebleu's."""

    tokenize: str = "13a"
    smooth_method: str = "exp"
    smooth_value: float | None = None
    lowercase: bool = False

    def setup(self) -> None:
        self._scorer()

    def _scorer(self) -> Any:
        return _bleu(self.tokenize, self.smooth_method, self.smooth_value, self.lowercase)

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        return float(self._scorer().sentence_score(as_text(output, "output"), references(ground_truth)).score)


@functools.cache
def _chrf(char_order: int, word_order: int, beta: int, lowercase: bool, eps_smoothing: bool) -> Any:
    sacrebleu = library("sacrebleu.metrics", "sacrebleu", "ChrF")
    return sacrebleu.CHRF(char_order=char_order, word_order=word_order, beta=beta, lowercase=lowercase,
                          eps_smoothing=eps_smoothing)


@dataclass(frozen=True)
class ChrF(Metric):
    """Sentence chrF of the output against the references, 0 to 100 (sacrebleu's); `word_order=2` gives
    chrF++. The options are sacrebleu's."""

    char_order: int = 6
    word_order: int = 0
    beta: int = 2
    lowercase: bool = False
    eps_smoothing: bool = False

    @property
    def name(self) -> str:
        return "ChrF" + "+" * self.word_order

    def setup(self) -> None:
        self._scorer()

    def _scorer(self) -> Any:
        return _chrf(self.char_order, self.word_order, self.beta, self.lowercase, self.eps_smoothing)

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        return float(self._scorer().sentence_score(as_text(output, "output"), references(ground_truth)).score)


@functools.cache
def _rouge(rouge_type: str, use_stemmer: bool) -> Any:
    rouge_scorer = library("rouge_score.rouge_scorer", "rouge-score", "RougeL")
    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=use_stemmer)


_MEASURES = ("fmeasure", "precision", "recall")


@dataclass(frozen=True)
class RougeL(Metric):
    """ROUGE-L of the output against the references (rouge-score's; several references: the best one),
    0 to 1. `measure` is "fmeasure" (the default), "precision" or "recall"; `summary=True` is ROUGE-Lsum
    (sentences on separate lines); `use_stemmer` applies the Porter stemmer."""

    measure: str = "fmeasure"
    use_stemmer: bool = False
    summary: bool = False

    def __post_init__(self) -> None:
        if self.measure not in _MEASURES:
            raise ValueError(f"RougeL measure must be one of {', '.join(_MEASURES)}, not {self.measure!r}")

    @property
    def name(self) -> str:
        return "RougeLsum" if self.summary else "RougeL"

    def setup(self) -> None:
        _rouge(self._type(), self.use_stemmer)

    def _type(self) -> str:
        return "rougeLsum" if self.summary else "rougeL"

    def score(self, output: str, ground_truth: str | list[str]) -> float:
        scorer = _rouge(self._type(), self.use_stemmer)
        text = as_text(output, "output")
        refs = references(ground_truth)
        # rouge-score takes the reference first; `score_multi` keeps the best reference by F-measure.
        scores = scorer.score(refs[0], text) if len(refs) == 1 else scorer.score_multi(refs, text)
        return float(getattr(scores[self._type()], self.measure))
