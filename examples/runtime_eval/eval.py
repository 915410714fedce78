"""Evaluates a toy question-answering pipeline with the hypermetric runtime: two components, three metrics.

    python examples/runtime_eval/eval.py                 # on Ray (a local one unless RAY_ADDRESS is set)
    python examples/runtime_eval/eval.py --local         # in this process, without Ray
    python examples/runtime_eval/eval.py --out DIR       # results in DIR (re-running into it resumes)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from hypermetric.runtime import Dataset, Metric, RunResult, component, runtime

HERE = Path(__file__).resolve().parent

# The "knowledge base" the retriever searches: one short document per topic.
CORPUS = {
    "ray": "Ray runs stateless tasks and stateful actors across a cluster.",
    "parquet": "Evaluation results are flushed to parquet files by the evaluator actors.",
    "backpressure": "A bound on rows in flight is backpressure: it keeps memory flat.",
    "arrow": "Arrow gives zero-copy reads of columnar data between processes.",
    "hypermake": "The plan of a HyperMake pipeline lives in the hm file next to the code.",
    "faults": "Rows a dead worker held are retried on a fresh worker; flushed results stay.",
    "resume": "A resumed run skips recorded rows and runs the rest.",
    "component": "The component decorator captures a function's inputs and outputs for metrics.",
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# --- Metrics ---------------------------------------------------------------------------------------------
class RecallAtK(Metric):
    """1 when the gold document is among the retrieved ones."""

    def score(self, retrieved: list[str], gold: str) -> float:
        return float(gold in retrieved)


class ExactMatch(Metric):
    """1 when the answer equals the reference, ignoring case and punctuation."""

    def score(self, prediction: str, reference: str) -> float:
        return float(_words(prediction) == _words(reference))


class TokenF1(Metric):
    """Precision, recall and F1 of the answer's words against the reference's (SQuAD style)."""

    def score(self, prediction: str, reference: str) -> dict[str, float]:
        predicted, expected = _words(prediction), _words(reference)
        common = sum(min(predicted.count(w), expected.count(w)) for w in set(predicted))
        if not common:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        precision, recall = common / len(predicted), common / len(expected)
        return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


# --- Components: the pipeline under evaluation -------------------------------------------------------------
@component(evals=[RecallAtK().use(retrieved=component.output(), gold=Dataset.doc)])
def retrieve(question: str, k: int = 2) -> list[str]:
    """The k documents sharing the most words with the question."""
    query = set(_words(question))
    ranked = sorted(CORPUS, key=lambda name: (-len(query & set(_words(CORPUS[name]))), name))
    return ranked[:k]


@component(evals=[ExactMatch().use(prediction=component.output(), reference=Dataset.answer),
                  TokenF1().use(prediction=component.output(), reference=Dataset.answer)])
def generate(question: str, documents: list[str]) -> str:
    """A stand-in for a model: the words of the best document that the question does not already contain."""
    asked = set(_words(question))
    novel = [w for w in _words(CORPUS[documents[0]]) if w not in asked]
    return " ".join(novel[:2])


def answer(question: str) -> str:
    """The pipeline: retrieve, then generate; `@runtime` runs it once per dataset row."""
    return generate(question, retrieve(question))


def evaluate(out: Path, *, local: bool, workers: int = 2) -> RunResult:
    dataset = Dataset.from_jsonl(HERE / "questions.jsonl")
    run = runtime(workers=workers, dataset=dataset, output_dir=out, parallel=not local, max_retries=2,
                  delay_seconds=1, exception_to_retry=TimeoutError)(answer)
    return run(question=Dataset.question)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="run in this process, without Ray")
    parser.add_argument("--out", type=Path, default=Path("evals/runtime_eval"), help="output directory")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    result = evaluate(args.out, local=args.local, workers=args.workers)
    for row in result.table.select(["row_id", "input.question", "output", "generate.TokenF1.f1"]).to_pylist():
        f1 = row["generate.TokenF1.f1"]
        print(f"{row['row_id']:>3}  f1={f1:.2f}  {row['input.question']!r} -> {row['output']!r}")


if __name__ == "__main__":
    main()
