"""Draws a DAG with box characters, row by row, exactly as HyperMake's `list` does, so drawings match."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def layout(nodes: Sequence[str], edges: Mapping[str, Sequence[str]], key=None) -> list[tuple[str, int]]:
    """Rows as (node, indent): sources of each weakly connected component first, recursively (components ordered by their smallest key, so the drawing is stable)."""
    sort_key = key or (lambda n: n)
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    succs: dict[str, set[str]] = {n: set() for n in nodes}
    for src, dsts in edges.items():
        for dst in dsts:
            if src in preds and dst in preds and src != dst:
                succs[src].add(dst)
                preds[dst].add(src)
    rows: list[tuple[str, int]] = []
    work: list[tuple[bool, frozenset[str], int]] = [(False, frozenset(nodes), 0)]
    while work:  # an explicit stack: place(G, base) recursion without Python's depth limit
        is_component, group, base = work.pop()
        if not is_component:
            components = sorted(_components(group, preds, succs), key=lambda c: min(map(sort_key, c)))
            work.extend((True, comp, base) for comp in reversed(components))
            continue
        sources = sorted((n for n in group if not (preds[n] & group)), key=sort_key)
        if not sources:  # a cycle: break it at the smallest node
            sources = [min(group, key=sort_key)]
        rows.extend((node, base + offset) for offset, node in enumerate(sources))
        rest = group - set(sources)
        if rest:
            work.append((False, frozenset(rest), base + len(sources)))
    return rows


def _components(group: frozenset[str], preds, succs) -> list[frozenset[str]]:
    seen: set[str] = set()
    out: list[frozenset[str]] = []
    for start in group:
        if start in seen:
            continue
        stack, comp = [start], set()
        while stack:
            n = stack.pop()
            if n in comp:
                continue
            comp.add(n)
            stack.extend(m for m in (preds[n] | succs[n]) if m in group and m not in comp)
        seen |= comp
        out.append(frozenset(comp))
    return out


def draw(nodes: Sequence[str], edges: Mapping[str, Sequence[str]], labels: Mapping[str, str],
         key=None) -> list[str]:
    """One text line per node: canvas (arcs) then label."""
    rows = layout(nodes, edges, key)
    index = {node: r for r, (node, _) in enumerate(rows)}
    indent = [ind for _, ind in rows]
    canvas = [[" "] * (2 * ind) for ind in indent]
    for i, (node, _) in enumerate(rows):
        targets = sorted(index[s] for s in edges.get(node, ()) if s in index and index[s] > i)
        if not targets:
            continue
        c, last = 2 * indent[i], targets[-1]
        for r in range(i + 1, last):
            if c < len(canvas[r]):
                canvas[r][c] = "│"
        for j in targets:
            row = canvas[j]
            if c >= len(row):
                continue
            crossing = indent[i] > 0 and c - 1 >= 0 and row[c - 1] == "─"
            if j == last:
                row[c] = "┴" if crossing else "└"
            else:
                row[c] = "┼" if crossing else "├"
            for col in range(c + 1, 2 * indent[j]):
                row[col] = "─"
    return ["".join(canvas[r]) + labels[node] for r, (node, _) in enumerate(rows)]
