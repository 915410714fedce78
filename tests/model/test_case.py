"""Canonical cases, case strings, directory names and job ids, as HyperMake names them on disk."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypermetric.model import case as C

DEFAULTS = {"a": "1", "B": "0", "Tag": "x"}


@pytest.mark.parametrize("full, pairs", [
    ({"a": "1", "B": "0"}, ()),
    ({"a": "2", "B": "1"}, (("B", "1"), ("a", "2"))),  # code-point order: `B` before `a`
    ({"a": "2", "B": "0"}, (("a", "2"),)),
], ids=["all-default", "sorted", "default-dropped"])
def test_canonical(full, pairs):
    assert C.canonical(full, DEFAULTS) == pairs


@pytest.mark.parametrize("pairs, dirname", [
    ((), "default"),
    ((("B", "1"), ("a", "2")), "B=1&a=2"),
    ((("Tag", "p q/r"),), "Tag=p+q%2Fr"),
    ((("Tag", "a~b"),), "Tag=a%7Eb"),
    ((("Tag", "s*t"),), "Tag=s*t"),
    ((("Tag", "1e-3"),), "Tag=1e-3"),
    ((("Tag", "a&b=c"),), "Tag=a%26b%3Dc"),
], ids=["default", "two", "space-slash", "tilde", "star", "number", "separators"])
def test_dirname(pairs, dirname):
    assert C.dirname(pairs) == dirname


def test_long_case_string_becomes_md5():
    pairs = (("Tag", "k" * 300),)
    text = "Tag=" + "k" * 300
    assert C.dirname(pairs) == hashlib.md5(text.encode()).hexdigest()  # past 255 bytes
    assert len(C.dirname(pairs)) == 32
    assert C.dirname((("Tag", "k" * 251),)) == "Tag=" + "k" * 251  # exactly 255 bytes: kept
    assert C.dirname((("Tag", "é" * 126),)) != "Tag=" + "é" * 126  # counted in UTF-8 bytes, encoded


@pytest.mark.parametrize("name, pairs, job_id, shown", [
    ("o.t", (("A", "y"), ("B", "1")), "o/t?A=y&B=1", "o.t[A: y, B: 1]"),
    ("o.t", (), "o/t", "o.t"),
    ("t", (("Tag", "p q"),), "t?Tag=p+q", "t[Tag: p q]"),
], ids=["two", "default", "encoded"])
def test_job_id_and_display(name, pairs, job_id, shown):
    assert C.job_id(name, pairs) == job_id  # never hashed
    assert C.display(name, pairs) == shown


def test_case_object():
    case = C.Case.of({"a": "2", "B": "1"}, DEFAULTS)
    assert case.string() == "B=1&a=2" and case.display() == "B: 1, a: 2" and bool(case)
    assert C.Case().dirname() == "default" and not C.Case()


# ------------------------------------------------------------------------------------------ properties

keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
axis_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
cases = st.dictionaries(axis_names, keys, max_size=5).map(lambda d: tuple(sorted(d.items())))


@given(cases)
def test_case_string_decodes_back(pairs):
    assert C.parse_case_string(C.case_string(pairs)) == pairs


@given(cases)
def test_dirname_is_a_single_safe_path_component(pairs):
    name = C.dirname(pairs)
    assert "/" not in name and "\x00" not in name
    assert name not in (".", "..", "")
    assert len(name.encode()) <= 255


@given(cases, cases)
def test_dirname_is_injective_on_canonical_cases(p, q):
    if p != q:
        assert C.dirname(p) != C.dirname(q)


@given(cases)
def test_dirname_never_escapes_the_root(pairs):
    root = "/srv/out/t"
    joined = os.path.normpath(os.path.join(root, C.dirname(pairs)))
    assert os.path.dirname(joined) == root


@given(st.dictionaries(axis_names, keys, max_size=5))
def test_canonical_form_ignores_insertion_order(full):
    defaults = {a: k for a, k in list(full.items())[::2]}
    reordered = dict(reversed(list(full.items())))
    assert C.canonical(full, defaults) == C.canonical(reordered, defaults)
    assert all(defaults.get(a) != k for a, k in C.canonical(full, defaults))


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_percent_decode_inverts_encode(text):
    from hypermetric import percent

    encoded = percent.encode(text)
    assert percent.decode(encoded) == text
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_+%")


@pytest.mark.parametrize("pairs", [(), (("A", "x"),), (("A", "a b"), ("B", "é")), (("A", "k" * 300),),
                                   (("A", "ü" * 100),), (("Long", "v" * 40), ("Z", "?&="))])
@pytest.mark.parametrize("max_length", [8, 255])
def test_the_directory_read_from_a_job_id_is_the_one_named_with_it(pairs, max_length):
    job_id, relpath = C.CaseNames().job("o/t", pairs, max_length)
    assert C.relpath_of_id(job_id, max_length) == relpath
