"""The metrics in a real run (`@component(evals=[...])`, in-process) and the imports they leave alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hypermetric.metrics import BLEU, MRR, NDCG, ChrF, Contains, EditSimilarity, ExactMatch, RougeL, TokenF1
from hypermetric.metrics._libraries import library
from hypermetric.runtime import Dataset, component, runtime

ROWS = [
    {"question": "Where is the Eiffel Tower?", "answer": ["Paris", "in Paris"], "ranking": ["d3", "d1", "d2"],
     "qrel": {"d1": 0, "d2": 1, "d3": 0}},
    {"question": "Who wrote Hamlet?", "answer": "William Shakespeare", "ranking": ["d2", "d9"],
     "qrel": {"d2": 2}},
    {"question": "Capital of Peru?", "answer": "Lima", "ranking": [], "qrel": {"d4": 1}},
]
ANSWERS = {"Where is the Eiffel Tower?": "It is in Paris.", "Who wrote Hamlet?": "Shakespeare",
           "Capital of Peru?": "Lima"}


def test_metrics_score_every_row_of_a_run_with_the_values_of_direct_calls(tmp_path):
    truth = Dataset.answer
    text_metrics = [TokenF1(), ExactMatch(), Contains(), EditSimilarity(), BLEU(), ChrF(), RougeL()]

    @component(evals=[*(m.use(output=component.output(), ground_truth=truth) for m in text_metrics),
                      NDCG(2).use(output=component.input("ranking"), ground_truth=Dataset.qrel),
                      MRR().use(output=component.input("ranking"), ground_truth=Dataset.qrel)])
    def ask(question: str, ranking: list[str]) -> str:
        return ANSWERS[question]

    result = runtime(dataset=Dataset.from_records(ROWS), parallel=False, output_dir=tmp_path / "out",
                     quiet=True, reductions={"TokenF1": ["median"]})(ask)(
        question=Dataset.question, ranking=Dataset.ranking)
    table = result.table
    for metric in text_metrics:
        expected = [metric.score(output=ANSWERS[r["question"]], ground_truth=r["answer"]) for r in ROWS]
        assert table.column(f"ask.{metric.name}").to_pylist() == pytest.approx(expected), metric.name
    assert table.column("ask.TokenF1").to_pylist() == pytest.approx([2 / 3, 2 / 3, 1.0])
    assert table.column("ask.Contains").to_pylist() == [1.0, 0.0, 1.0]  # the full name is not in it
    assert table.column("ask.NDCG@2").to_pylist() == [0.0, 1.0, 0.0]
    assert table.column("ask.MRR").to_pylist() == pytest.approx([1 / 3, 1.0, 0.0])
    assert table.column("eval_errors").null_count == 3
    assert result.metrics["ask.TokenF1"].reductions == {"median": pytest.approx(2 / 3)}


def test_a_metric_given_the_wrong_kind_of_value_fails_that_row_only(tmp_path):
    @component(evals=[TokenF1().use(output=component.output(), ground_truth=Dataset.answer)])
    def echo(answer: object) -> object:
        return answer

    rows = [{"answer": "yes"}, {"answer": 7}]
    result = runtime(dataset=Dataset.from_records(rows), parallel=False, output_dir=tmp_path / "o",
                     quiet=True)(echo)(answer=Dataset.answer)
    assert result.table.column("echo.TokenF1").to_pylist()[0] == 1.0
    assert result.metrics["echo.TokenF1"].errors == 1 and result.failed == 0


def test_a_missing_library_says_which_package_and_extra_to_install():
    with pytest.raises(ImportError, match=r"NoSuch needs the 'no-such-dist' package .*"
                                          r"pip install 'hypermetric\[metrics\]'"):
        library("hypermetric_no_such_module", "no-such-dist", "NoSuch")


@pytest.mark.parametrize("statement", [
    "import hypermetric", "import hypermetric.metrics", "import hypermetric.cli.app",
    "from hypermetric.metrics import NDCG; NDCG(5)",
])
def test_imports_load_no_metric_library(statement):
    code = (f"import sys; {statement}; print(sorted(m for m in ('sacrebleu', 'rapidfuzz', 'rouge_score', "
            "'pytrec_eval', 'numpy', 'nltk') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "hypermetric.metrics" not in subprocess.run(
        [sys.executable, "-c", "import sys, hypermetric, hypermetric.cli.app; print(list(sys.modules))"],
        capture_output=True, text=True, check=True).stdout
