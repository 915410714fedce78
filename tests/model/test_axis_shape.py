"""Axes (default key, alignment, key order) and shapes (enumeration, selection, restriction)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypermetric.model.axis import Axis
from hypermetric.model.shape import Shape

A = Axis("A", ("x", "y", "z"))
B = Axis("B", ("1", "2"))


def test_default_is_the_first_key():
    assert A.default == "x"
    assert "y" in A and "q" not in A
    assert A.position("z") == 2


@pytest.mark.parametrize("other, aligned", [
    (Axis("A", ("x", "y", "z")), True),
    (Axis("A", ("y", "x", "z")), False),
    (Axis("A", ("x", "y")), False),
    (Axis("B", ("x", "y", "z")), False),
], ids=["same", "reordered", "subset", "other-name"])
def test_alignment(other, aligned):
    assert A.aligned_with(other) is aligned


def test_keys_must_be_unique_and_present():
    with pytest.raises(ValueError):
        Axis("A", ())
    with pytest.raises(ValueError):
        Axis("A", ("x", "x"))


def test_ordered_puts_keys_in_declaration_order():
    assert A.ordered(["z", "x", "z"]) == ("x", "z")
    assert A.render() == "{ x y z }"


def test_shape_enumerates_the_product_last_axis_fastest():
    shape = Shape.of([A, B])
    assert len(shape) == 6
    assert list(shape.enumerate())[:3] == [("x", "1"), ("x", "2"), ("y", "1")]
    assert next(shape.cases()) == {"A": "x", "B": "1"}


def test_select_restrict_join():
    shape = Shape.of([A, B]).select({"A": ("z", "y")})
    assert shape.keys == (("y", "z"), ("1", "2"))
    assert shape.restrict({"B"}).names == ("B",)
    assert Shape.of([A]).join(Shape.of([B, A])).names == ("A", "B")


@given(st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=4))
def test_shape_size_is_the_product_of_axis_sizes(sizes):
    axes = [Axis(f"X{i}", tuple(str(k) for k in range(n))) for i, n in enumerate(sizes)]
    shape = Shape.of(axes)
    expected = 1
    for n in sizes:
        expected *= n
    assert len(shape) == expected == len(list(shape.enumerate()))


@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1))
def test_selection_enumerates_a_subset(keys):
    full = set(Shape.of([A, B]).enumerate())
    assert set(Shape.of([A, B]).select({"A": tuple(keys)}).enumerate()) <= full
    assert set(itertools.product(sorted(set(keys), key=A.position), B.keys)) == set(
        Shape.of([A, B]).select({"A": tuple(keys)}).enumerate())
