"""The library-backed metrics give the libraries' own reference values (the expected numbers below come from
the test suites of sacrebleu, rouge-score and pytrec_eval, and from rapidfuzz's documentation), and agree with
calling the library directly."""

from __future__ import annotations

import pytest

from hypermetric.metrics import BLEU, MAP, MRR, NDCG, ChrF, EditSimilarity, Precision, Recall, RougeL

# sacrebleu's test_sentence_bleu.py (its example from issue #98)
BLEU_REF = "producţia de zahăr brut se exprimă în zahăr alb;"
BLEU_SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"


@pytest.mark.parametrize("smooth_method, smooth_value, lowercase, tokenize, expected", [
    ("exp", None, False, "13a", 8.493),
    ("none", None, False, "13a", 0.0),
    ("floor", 0.1, False, "13a", 4.51688),
    ("floor", 0.5, False, "13a", 10.10),
    ("add-k", 1, False, "13a", 14.882),
    ("add-k", 2, False, "13a", 21.389),
    ("exp", None, False, "none", 7.347),
    ("exp", None, False, "intl", 8.493),
    ("exp", None, False, "char", 40.8759),
    ("exp", None, True, "char", 42.0267),
])
def test_bleu_gives_sacrebleus_sentence_bleu(smooth_method, smooth_value, lowercase, tokenize, expected):
    metric = BLEU(tokenize=tokenize, smooth_method=smooth_method, smooth_value=smooth_value,
                  lowercase=lowercase)
    assert metric.score(output=BLEU_SYS, ground_truth=BLEU_REF) == pytest.approx(expected, abs=1e-3)
    assert metric.score(output=BLEU_SYS, ground_truth=[BLEU_REF]) == pytest.approx(expected, abs=1e-3)


def test_bleu_of_unrelated_texts_is_zero_and_of_a_copy_a_hundred():
    assert BLEU().score(output="this is a cat", ground_truth="okay thanks") == 0.0  # sacrebleu issue #141
    copy = "the cat sat on the mat"
    assert BLEU().score(output=copy, ground_truth=copy) == pytest.approx(100.0)


# sacrebleu's test_chrf.py, sentence level (eps smoothing)
@pytest.mark.parametrize("hypothesis, reference, expected", [
    ("Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
     "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.", 39.14078509),
    ("Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
     "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.", 31.22557079),
    ("Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
     "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.", 57.15704367),
])
def test_chrf_gives_sacrebleus_sentence_chrf(hypothesis, reference, expected):
    assert ChrF(eps_smoothing=True).score(output=hypothesis, ground_truth=[reference]) == pytest.approx(
        expected, abs=1e-4)


def test_chrf_plus_plus_is_named_and_matches_sacrebleu():
    import sacrebleu

    hypothesis, reference = "the cat sat on a mat", "the cat sat on the mat"
    expected = sacrebleu.sentence_chrf(hypothesis, [reference], word_order=2).score
    assert ChrF(word_order=2).name == "ChrF++" and ChrF().name == "ChrF"
    assert ChrF(word_order=2).score(output=hypothesis, ground_truth=reference) == pytest.approx(expected)
    assert ChrF().score(output=reference, ground_truth=reference) == pytest.approx(100.0)


# rouge-score's rouge_scorer_test.py: the target is "testing one two"
@pytest.mark.parametrize("prediction, measure, expected", [
    ("testing one", "fmeasure", 4 / 5),
    ("testing one", "precision", 1.0),
    ("testing one", "recall", 2 / 3),
    ("testing two", "fmeasure", 4 / 5),  # a subsequence need not be consecutive
    ("", "fmeasure", 0.0),
])
def test_rouge_l_gives_rouge_scores_values(prediction, measure, expected):
    metric = RougeL(measure=measure)
    assert metric.score(output=prediction, ground_truth="testing one two") == pytest.approx(expected)


def test_rouge_lsum_and_several_references():
    # rouge-score's testRougeLsum: union LCS over the candidate's sentences
    summary = RougeL(summary=True)
    assert summary.name == "RougeLsum"
    assert summary.score(output="w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", ground_truth="w1 w2 w3 w4 w5") == \
        pytest.approx(0.5333, abs=1e-3)
    best = RougeL().score(output="testing one", ground_truth=["unrelated words", "testing one two"])
    assert best == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="measure must be one of"):
        RougeL(measure="f1")


def test_rouge_l_stemming_is_rouge_scores():
    from rouge_score import rouge_scorer

    expected = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score("the cats running", "cat runs")
    assert RougeL(use_stemmer=True).score(output="cat runs", ground_truth="the cats running") == \
        pytest.approx(expected["rougeL"].fmeasure)


def test_edit_similarity_is_rapidfuzzs_normalised_levenshtein():
    assert EditSimilarity().score(output="kitten", ground_truth="sitting") == pytest.approx(4 / 7)
    assert EditSimilarity().score(output="", ground_truth="") == 1.0
    assert EditSimilarity().score(output="abc", ground_truth=["xyz", "abd"]) == pytest.approx(2 / 3)
    assert EditSimilarity(normalize=True).score(output="The Cat!", ground_truth="cat") == 1.0


# pytrec_eval's pytrec_eval_tests.py: query q1 judges d2 relevant, d1 and d3 not
QREL = {"d1": 0, "d2": 1, "d3": 0}


@pytest.mark.parametrize("ranking, metric, expected", [
    (["d3", "d1", "d2"], NDCG(), 0.5),  # d2 at rank 3
    (["d2", "d3", "d1"], NDCG(), 1.0),
    (["d1", "d2", "d3"], NDCG(), 0.6309297535714575),
    (["d3", "d1", "d2"], NDCG(3), 0.5),
    (["d3", "d1", "d2"], NDCG(2), 0.0),
    (["d3", "d1", "d2"], NDCG(1), 0.0),
    (["d3", "d1", "d2"], NDCG(1000), 0.5),
    (["d2", "d3", "d1"], NDCG(1), 1.0),
])
def test_ndcg_gives_pytrec_evals_values(ranking, metric, expected):
    assert metric.score(output=ranking, ground_truth=QREL) == pytest.approx(expected)


def test_ranking_metrics_agree_with_trec_eval_on_a_graded_query():
    import pytrec_eval

    qrel = {"a": 2, "b": 0, "c": 1, "d": 1, "z": 3}  # z is never retrieved
    ranking = ["b", "c", "x", "a", "d", "y"]
    measures = {"ndcg_cut.3", "recall.2", "recall.5", "P.5", "recip_rank", "map", "map_cut.4", "ndcg"}
    truth = pytrec_eval.RelevanceEvaluator({"q": qrel}, measures).evaluate(
        {"q": {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)}})["q"]
    cases = [(NDCG(3), "ndcg_cut_3"), (NDCG(), "ndcg"), (Recall(2), "recall_2"), (Recall(5), "recall_5"),
             (Precision(5), "P_5"), (MRR(), "recip_rank"), (MAP(), "map"), (MAP(4), "map_cut_4")]
    for metric, key in cases:
        assert metric.score(output=ranking, ground_truth=qrel) == pytest.approx(truth[key]), metric
    assert MRR().score(output=ranking, ground_truth=qrel) == 0.5
    assert Recall().score(output=ranking, ground_truth=qrel) == pytest.approx(3 / 4)  # a, c, d of a c d z


def test_ranking_inputs_ids_lists_cuts_and_unjudged_queries():
    assert MRR().score(output=[7, 3, 9], ground_truth=[3]) == 0.5  # ids compare as text; a list is binary
    assert MRR(1).score(output=[7, 3, 9], ground_truth=[3]) == 0.0  # cut: only the top document counts
    assert Recall(1).score(output=["a", "a", "b"], ground_truth=["b"]) == 0.0  # a repeated id keeps one place
    assert Recall(2).score(output=["a", "a", "b"], ground_truth=["b"]) == 1.0
    assert NDCG(10).score(output=["a"], ground_truth={"a": 0}) == 0.0  # nothing relevant: 0, as trec_eval
    assert NDCG(10).score(output=["a"], ground_truth={}) is None  # nothing judged: no score
    assert MRR(relevance_level=2).score(output=["a", "b"], ground_truth={"a": 1, "b": 2}) == 0.5
    assert [m.name for m in (NDCG(10), Recall(100), MRR(), MAP(), Precision(5))] == [
        "NDCG@10", "Recall@100", "MRR", "MAP", "Precision@5"]


def test_ranking_metrics_reject_bad_arguments():
    with pytest.raises(ValueError, match="k must be a positive integer, not 0"):
        NDCG(0)
    with pytest.raises(ValueError, match="relevance_level must be a positive integer, not 0"):
        MRR(relevance_level=0)
    with pytest.raises(TypeError, match="output must be a ranked list of document ids, not str"):
        MRR().score(output="d1", ground_truth=["d1"])
    with pytest.raises(TypeError, match="relevance grades must be integers"):
        MRR().score(output=["d1"], ground_truth={"d1": 0.5})
    with pytest.raises(TypeError, match="ground_truth must be a dict"):
        MRR().score(output=["d1"], ground_truth=5)
