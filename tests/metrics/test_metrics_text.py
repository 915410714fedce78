"""The answer metrics: exact match, SQuAD normalisation and token F1, containment."""

from __future__ import annotations

import pytest

from hypermetric.metrics import (
    Contains,
    ExactMatch,
    NormalizedExactMatch,
    TokenF1,
    normalize_answer,
    token_f1,
)
from hypermetric.runtime import Metric


def test_every_metric_is_a_metric_with_a_score_of_output_and_ground_truth():
    for metric in (ExactMatch(), NormalizedExactMatch(), TokenF1(), Contains()):
        assert isinstance(metric, Metric)
        spec = metric.use(output="x", ground_truth="x")
        assert spec.name == type(metric).__name__ and spec.keys == ("output", "ground_truth")


def test_squad_normalisation_drops_case_punctuation_articles_and_extra_spaces():
    assert normalize_answer("  The  Eiffel-Tower, in PARIS!  ") == "eiffeltower in paris"
    assert normalize_answer("an apple a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_exact_match_compares_raw_values_and_any_of_several_references():
    assert ExactMatch().score(output="Paris", ground_truth="Paris") == 1.0
    assert ExactMatch().score(output="paris", ground_truth="Paris") == 0.0
    assert ExactMatch().score(output="Lyon", ground_truth=["Paris", "Lyon"]) == 1.0
    assert ExactMatch().score(output=3, ground_truth=3) == 1.0
    assert ExactMatch().score(output=[1, 2], ground_truth=[1, 2]) == 1.0  # a list answer against a list


def test_normalized_exact_match_is_squads():
    assert NormalizedExactMatch().score(output="the Eiffel Tower.", ground_truth="Eiffel tower") == 1.0
    assert NormalizedExactMatch().score(output="Eiffel", ground_truth=["Eiffel Tower", "tower"]) == 0.0
    assert NormalizedExactMatch().score(output="Tower!", ground_truth=["Eiffel Tower", "tower"]) == 1.0


@pytest.mark.parametrize("prediction, reference, expected", [
    ("cat sat", "cat mat", 0.5),
    ("the cat sat", "a cat sat on the mat", 2 / 3),  # precision 1, recall 2/4
    ("a b", "a c", 0.0),  # "a" is an article
    ("Paris Paris", "Paris", 2 / 3),  # a bag of words: the second "paris" is unmatched
    ("", "", 1.0),
    ("the", "", 1.0),  # empty once normalised
    ("", "Paris", 0.0),
    ("London", "Paris", 0.0),
])
def test_token_f1_follows_squad(prediction, reference, expected):
    assert token_f1(prediction, reference) == pytest.approx(expected)
    assert TokenF1().score(output=prediction, ground_truth=reference) == pytest.approx(expected)


def test_token_f1_without_normalisation_keeps_every_token_and_takes_the_best_reference():
    assert TokenF1(normalize=False).score(output="a b", ground_truth="a c") == 0.5
    assert TokenF1(normalize=False).score(output="Cat", ground_truth="cat") == 0.0
    assert TokenF1().score(output="cat sat", ground_truth=["dog", "cat mat", "cat sat"]) == 1.0


def test_contains_matches_whole_normalised_words_or_a_plain_substring():
    assert Contains().score(output="I think it is the Eiffel Tower.", ground_truth="eiffel tower") == 1.0
    assert Contains().score(output="concatenate", ground_truth="cat") == 0.0
    assert Contains().score(output="a cat", ground_truth=["dog", "cat"]) == 1.0
    assert Contains(normalize=False).score(output="concatenate", ground_truth="cat") == 1.0
    assert Contains(normalize=False).score(output="Cat", ground_truth="cat") == 0.0


@pytest.mark.parametrize("metric", [NormalizedExactMatch(), TokenF1(), Contains()])
def test_wrong_argument_types_fail_the_row_with_a_clear_error(metric):
    with pytest.raises(TypeError, match="output must be a string, not NoneType"):
        metric.score(output=None, ground_truth="x")
    with pytest.raises(TypeError, match="ground_truth must be a string or a list of strings, not int"):
        metric.score(output="x", ground_truth=3)
    with pytest.raises(ValueError, match="no reference"):
        metric.score(output="x", ground_truth=[])
