"""The task graph's layered layout: ranks by longest path, dummy chains for edges that skip layers, an order
within layers that removes avoidable crossings, and a drawing with a box per task and a path per edge."""

from __future__ import annotations

import re

import pytest

from hypermetric.report.graph_svg import render_graph, task_status
from hypermetric.report.layering import is_dummy, layer_graph, ranks


def test_ranks_are_longest_paths():
    edges = {"a": {"b", "d"}, "b": {"c"}, "c": {"d"}}
    assert ranks(["a", "b", "c", "d"], edges) == {"a": 0, "b": 1, "c": 2, "d": 3}


def test_an_edge_that_skips_layers_runs_through_dummies():
    layered = layer_graph(["a", "b", "c", "d"], {"a": {"b", "d"}, "b": {"c"}, "c": {"d"}})
    chain = layered.chains[("a", "d")]
    assert chain[0] == "a" and chain[-1] == "d" and len(chain) == 4
    assert all(is_dummy(n) for n in chain[1:-1])
    assert [len(layer) for layer in layered.layers] == [1, 2, 2, 1]


def _crossings(layered) -> int:
    count = 0
    pairs = [(a, b) for chain in layered.chains.values() for a, b in zip(chain, chain[1:])]
    where = {n: i for layer in layered.layers for i, n in enumerate(layer)}
    for i, (a, b) in enumerate(pairs):
        for c, d in pairs[i + 1:]:
            if (where[a] - where[c]) * (where[b] - where[d]) < 0:
                count += 1
    return count


def test_barycentre_sweeps_untangle_a_crossing():
    # Given order puts x2 above x1 although x1 reads from s1 (top) and x2 from s2 (bottom).
    layered = layer_graph(["s1", "s2", "x2", "x1"], {"s1": {"x1"}, "s2": {"x2"}})
    assert _crossings(layered) == 0
    assert layered.layers[1] == ["x1", "x2"]


def test_a_cycle_does_not_hang_the_layout():
    layered = layer_graph(["a", "b"], {"a": {"b"}, "b": {"a"}})
    assert sorted(n for layer in layered.layers for n in layer) == ["a", "b"]


@pytest.mark.parametrize(("counts", "status"), [
    ({"COMPLETE": 3, "FAILED": 1}, "FAILED"),
    ({"COMPLETE": 3, "OUTDATED": 1, "PENDING": 2}, "OUTDATED"),
    ({"COMPLETE": 3}, "COMPLETE"),
], ids=["failed", "outdated", "complete"])
def test_a_task_takes_its_most_pressing_status(counts, status):
    assert task_status(counts) == status


def test_the_drawing_has_a_box_per_task_and_a_path_per_edge():
    svg = render_graph(["a&b", "c"], {"a&b": {"c"}}, {"a&b": {"COMPLETE": 2}, "c": {"COMPLETE": 1, "FAILED": 1}})
    assert re.findall(r'data-task="([^"]*)" data-status="([A-Z]+)"', svg) == [("a&amp;b", "COMPLETE"),
                                                                            ("c", "FAILED")]
    assert len(re.findall(r'<path class="edge"', svg)) == 1
    assert "1/2 done · 1 failed" in svg
