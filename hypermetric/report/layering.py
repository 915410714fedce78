"""A layered (Sugiyama-style) layout of a small DAG: a layer per longest-path rank, a chain of dummy nodes for
each edge that skips layers, and barycentre sweeps that order each layer to reduce crossings.

Task graphs have tens of nodes, so the simple heuristics are enough, and drawing them ourselves keeps the
report free of a graphviz binary that a user's machine may not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SWEEPS = 4
DUMMY = "\x00"  # prefix of dummy node names; no task name can contain a NUL


@dataclass(frozen=True, slots=True)
class Layered:
    """The nodes of each layer in drawing order (dummies included) and each edge's chain of nodes, from its
    source through its dummies to its target."""

    layers: list[list[str]]
    chains: dict[tuple[str, str], list[str]]


def is_dummy(name: str) -> bool:
    return name.startswith(DUMMY)


def ranks(nodes: Sequence[str], edges: Mapping[str, set[str]]) -> dict[str, int]:
    """Each node's longest-path distance from a source; nodes on a cycle are ranked after what precedes them."""
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dsts in edges.items():
        for dst in dsts:
            if src in preds and dst in preds and src != dst:
                preds[dst].append(src)
    rank: dict[str, int] = {}
    remaining = list(nodes)
    while remaining:
        ready = [n for n in remaining if all(p in rank for p in preds[n])] or remaining[:1]
        for node in ready:
            rank[node] = 1 + max((rank[p] for p in preds[node] if p in rank), default=-1)
        remaining = [n for n in remaining if n not in rank]
    return rank


def layer_graph(nodes: Sequence[str], edges: Mapping[str, set[str]]) -> Layered:
    """Layers and edge chains for `nodes` (in their given order) and `edges` (source -> targets)."""
    rank = ranks(nodes, edges)
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for node in nodes:
        layers[rank[node]].append(node)
    chains: dict[tuple[str, str], list[str]] = {}
    for src in nodes:
        for dst in sorted(edges.get(src, ()), key=list(nodes).index):
            if dst not in rank or dst == src or rank[dst] <= rank[src]:
                continue  # an edge against the ranking (a cycle) is left out of the layout
            chain = [src]
            for level in range(rank[src] + 1, rank[dst]):
                dummy = f"{DUMMY}{src}\x00{dst}\x00{level}"
                layers[level].append(dummy)
                chain.append(dummy)
            chains[(src, dst)] = [*chain, dst]
    _reduce_crossings(layers, chains)
    return Layered(layers, chains)


def _reduce_crossings(layers: list[list[str]], chains: Mapping[tuple[str, str], list[str]]) -> None:
    ups: dict[str, list[str]] = {}
    downs: dict[str, list[str]] = {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            downs.setdefault(a, []).append(b)
            ups.setdefault(b, []).append(a)
    for _ in range(SWEEPS):
        for i in range(1, len(layers)):
            layers[i] = _by_barycentre(layers[i], layers[i - 1], ups)
        for i in range(len(layers) - 2, -1, -1):
            layers[i] = _by_barycentre(layers[i], layers[i + 1], downs)


def _by_barycentre(layer: list[str], fixed: list[str], neighbours: Mapping[str, list[str]]) -> list[str]:
    """`layer` sorted by the mean position of each node's neighbours in `fixed`; a node without any keeps
    its place (the sort is stable and keyed on its own index)."""
    where = {n: i for i, n in enumerate(fixed)}

    def key(item: tuple[int, str]) -> float:
        index, node = item
        around = [where[n] for n in neighbours.get(node, ()) if n in where]
        if not around:
            return index * len(fixed) / max(1, len(layer))
        return sum(around) / len(around)

    return [node for _, node in sorted(enumerate(layer), key=key)]
