"""Ranking metrics for one query, computed by trec_eval (through pytrec-eval-terrier): nDCG, recall,
precision, MRR and MAP, each optionally cut at a depth `k`.

`output` is the ranked list of document ids the system returned, best first; `ground_truth` the relevance
judgements, a dict from document id to grade (0 not relevant), or a list of the relevant ids (grade 1). Ids
are compared as text. trec_eval's conventions hold: nDCG's gain is the grade itself (not 2^grade - 1), a
document counts as relevant from grade `relevance_level` (1 by default), and a query without any judged
document gets no score (None, left out of the summary's mean), as trec_eval leaves such queries out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypermetric.metrics._libraries import library
from hypermetric.runtime.scoring.metric import Metric


def _run(ranking: Any, depth: int | None) -> dict[str, float]:
    """The ranking as trec_eval's run: a score per document that falls with its rank (a repeated id keeps its
    first place), cut at `depth` when given."""
    if isinstance(ranking, (str, bytes, Mapping)) or not isinstance(ranking, Iterable):
        raise TypeError(f"output must be a ranked list of document ids, not {type(ranking).__name__}")
    ids = list(dict.fromkeys(str(doc) for doc in ranking))
    if depth is not None:
        ids = ids[:depth]
    return {doc: float(len(ids) - rank) for rank, doc in enumerate(ids)}


def _qrel(judgements: Any) -> dict[str, int]:
    """The judgements as trec_eval's qrel: an integer grade per document id."""
    if isinstance(judgements, Mapping):
        return {str(doc): _grade(grade) for doc, grade in judgements.items()}
    if isinstance(judgements, (str, bytes)) or not isinstance(judgements, Iterable):
        raise TypeError("ground_truth must be a dict of document id to relevance grade or a list of relevant "
                        f"ids, not {type(judgements).__name__}")
    return {str(doc): 1 for doc in judgements}


def _grade(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, (int, float)) and float(value).is_integer()):
        return int(value)
    raise TypeError(f"relevance grades must be integers, not {value!r}")


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class _Ranking(Metric):
    """A trec_eval measure of one query's ranking; subclasses name the measure, with and without a cut."""

    k: int | None = None
    relevance_level: int = 1

    measure = ""  # trec_eval's name of the measure over the whole ranking
    cut_measure = ""  # ... and at depth k ("" where trec_eval has none: the ranking is cut instead)

    def __post_init__(self) -> None:
        _check_positive("k", self.k)  # (None: the whole ranking)
        if self.relevance_level is None:
            raise ValueError("relevance_level must be a positive integer, not None")
        _check_positive("relevance_level", self.relevance_level)

    @property
    def name(self) -> str:
        label = type(self).__name__
        return label if self.k is None else f"{label}@{self.k}"

    def setup(self) -> None:
        library("pytrec_eval", "pytrec-eval-terrier", type(self).__name__)

    def score(self, output: Any, ground_truth: Any) -> float | None:
        pytrec_eval = library("pytrec_eval", "pytrec-eval-terrier", type(self).__name__)
        native_cut = self.k is not None and self.cut_measure
        measure = f"{self.cut_measure}.{self.k}" if native_cut else self.measure
        evaluator = pytrec_eval.RelevanceEvaluator({"q": _qrel(ground_truth)}, {measure},
                                                   relevance_level=self.relevance_level)
        results = evaluator.evaluate({"q": _run(output, None if native_cut else self.k)}).get("q")
        if results is None:  # no judged document: trec_eval leaves the query out
            return None
        return float(results[measure.replace(".", "_")])


class NDCG(_Ranking):
    """nDCG (at depth k with `NDCG(10)`), trec_eval's `ndcg` / `ndcg_cut.k`."""

    measure, cut_measure = "ndcg", "ndcg_cut"


class Recall(_Ranking):
    """Recall of the relevant documents (within the top k with `Recall(100)`), trec_eval's `recall.k`; with
    no k, over the whole ranking."""

    measure, cut_measure = "set_recall", "recall"


class Precision(_Ranking):
    """Precision of the top k (`Precision(10)`), trec_eval's `P.k`; with no k, of the whole ranking."""

    measure, cut_measure = "set_P", "P"


class MRR(_Ranking):
    """Reciprocal rank of the first relevant document (trec_eval's `recip_rank`; averaged over rows, MRR);
    `MRR(10)` looks at the top 10 only."""

    measure = "recip_rank"


class MAP(_Ranking):
    """Average precision (trec_eval's `map`, averaged over rows, MAP); `MAP(100)` is `map_cut.100`."""

    measure, cut_measure = "map", "map_cut"
