"""Axes: default key, alignment, key order."""

from __future__ import annotations

import pytest

from hypermetric.model.axis import Axis

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
