"""The two examples of the original Hypermetric README (seed 000), as written there but for the import line.

What the README leaves to the reader is filled in above each example: `my_library`'s two metrics, the
`dataset` the component refers to, and bodies for the functions (`pass`, `processed_data`).
The runtime example names no dataset, so a run takes it from HYPERMETRIC_DATASET.
"""

from __future__ import annotations

import math

from hypermetric import Dataset, Metric, component, runtime

ROWS = [
    {"query": "  Hey, Google ", "ground_truth": "hey, google"},
    {"query": "What is Ray?", "ground_truth": "what is ray?"},
    {"query": "ARROW tables", "ground_truth": "arrow"},
    {"query": "parquet", "ground_truth": "parquet"},
    {"query": "Flush   ", "ground_truth": "flush"},
    {"query": "", "ground_truth": "empty"},
]


class metric_1(Metric):  # noqa: N801 - the README's name
    """Exact match of the normalised input against the ground truth."""

    def score(self, input: str, ground_truth: str) -> float:
        return float(input.strip().lower() == ground_truth)


class metric_2(Metric):  # noqa: N801 - the README's name
    """How much of the input survives preprocessing, and how many words it has."""

    def score(self, input: str, output: str) -> dict[str, float]:
        return {"kept": len(output) / max(len(input), 1), "words": len(output.split())}


dataset = Dataset.from_records(ROWS)


# --- README example 1: the runtime decorator -------------------------------------------------------------
@runtime(
    workers = 10,
    max_runs = math.inf,
    max_retries = 3,
    delay_seconds = 5,
    exception_to_retry = Exception,
)
def main(query: str):
    # your existing code remains unaltered
    pass


# --- README example 2: the component decorator -----------------------------------------------------------
@component(
    evals=[
          metric_1().use(
                          input = component.input("input_data"), # specify what all fields need to be captured
                          ground_truth = dataset.ground_truth, # even supports datasets
          ),
          metric_2().use(
                          input = component.input("input_data"),
                          output = component.output()),
          ]
)
def preprocess(input_data):
    # your code remains unchanged - unaltered
    processed_data = " ".join(input_data.split()).lower()
    return processed_data


@runtime(workers=2, max_retries=3, delay_seconds=5, exception_to_retry=Exception, quiet=True)
def pipeline(query: str):
    return preprocess(query)
