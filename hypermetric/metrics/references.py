"""What a metric compares against: one reference or several (the best match counts), and answer normalisation.

`normalize_answer` is the normalisation of the SQuAD v1.1 evaluation script (lower case, no punctuation, no
English articles, single spaces), which the exact-match and token-F1 metrics of most QA benchmarks share.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, punctuation removed, the articles a/an/the removed, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def as_text(value: Any, what: str) -> str:
    """A text argument; None and non-text values are errors (the row's metric fails, not the run)."""
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} must be a string, not {type(value).__name__}")


def references(ground_truth: Any) -> list[str]:
    """The reference texts: a string is one reference, any other iterable of strings several."""
    if isinstance(ground_truth, str):
        return [ground_truth]
    if isinstance(ground_truth, Iterable) and not isinstance(ground_truth, (bytes, dict)):
        texts = [as_text(item, "each reference") for item in ground_truth]
        if texts:
            return texts
        raise ValueError("ground_truth has no reference")
    raise TypeError(f"ground_truth must be a string or a list of strings, not {type(ground_truth).__name__}")
