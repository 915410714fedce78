"""The task graph as inline SVG: a box per task, coloured by the most pressing status among its jobs, with a
bar of its jobs' statuses, and arrows from each task to the tasks that read from it (left to right)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from hypermetric.report.layering import Layered, is_dummy, layer_graph
from hypermetric.report.palette import STATUS_COLORS, STATUS_ORDER, tint

NODE_H = 54
ROW_GAP = 22
COL_GAP = 64
PAD = 16
CHAR_W = 7.6      # width of one character of the 13px sans-serif label, generously estimated
MIN_W = 120
BAR_H = 6

# The status a task box takes: the first of these that any of its jobs has.
_URGENCY = ("FAILED", "RUNNING", "OUTDATED", "PENDING", "WAITING", "SKIPPED", "SUCCESS", "COMPLETE")


def task_status(counts: Mapping[str, int]) -> str:
    """The status that colours a task: its most pressing one (FAILED before OUTDATED before PENDING...)."""
    return next((s for s in _URGENCY if counts.get(s)), "PENDING")


def render_graph(tasks: Sequence[str], edges: Mapping[str, set[str]], counts: Mapping[str, Mapping[str, int]]) -> str:
    """`<svg class="task-graph">` for the tasks (in order), the edges between them, and each task's count of
    jobs per status."""
    layered = layer_graph(tasks, edges)
    widths = [max([MIN_W, *(_width(n) for n in layer if not is_dummy(n))]) for layer in layered.layers]
    boxes = _place(layered, widths)
    width = sum(widths) + COL_GAP * max(0, len(widths) - 1) + 2 * PAD
    height = max([PAD * 2 + NODE_H, *(y + NODE_H + PAD for _, y, _ in boxes.values())])
    parts = [f'<svg class="task-graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
             f'aria-label="task graph">', _DEFS]
    parts += [_edge(chain, boxes) for chain in layered.chains.values()]
    parts += [_node(name, boxes[name], counts.get(name, {})) for name in tasks if name in boxes]
    parts.append("</svg>")
    return "\n".join(parts)


def _width(name: str) -> float:
    return len(name) * CHAR_W + 28


def _place(layered: Layered, widths: list[float]) -> dict[str, tuple[float, float, float]]:
    """Node -> (x, y, width) of its box; each column is centred vertically on the tallest one."""
    tallest = max((len(layer) for layer in layered.layers), default=0)
    full = tallest * (NODE_H + ROW_GAP) - ROW_GAP
    boxes: dict[str, tuple[float, float, float]] = {}
    x: float = PAD
    for layer, width in zip(layered.layers, widths):
        span = len(layer) * (NODE_H + ROW_GAP) - ROW_GAP
        y = PAD + (full - span) / 2
        for node in layer:
            boxes[node] = (x, y, width)
            y += NODE_H + ROW_GAP
        x += width + COL_GAP
    return boxes


def _edge(chain: list[str], boxes: Mapping[str, tuple[float, float, float]]) -> str:
    """A smooth path from the source's right side through its dummies to the target's left side."""
    points: list[tuple[float, float]] = []
    for i, node in enumerate(chain):
        x, y, w = boxes[node]
        mid = y + NODE_H / 2
        if i > 0:
            points.append((x, mid))
        if i < len(chain) - 1:
            points.append((x + w, mid))
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if y0 == y1:   # level, or straight through a dummy's column
            d.append(f"L{x1:.1f},{y1:.1f}")
        else:
            bend = (x1 - x0) / 2
            d.append(f"C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
    source, target = escape(chain[0]), escape(chain[-1])
    return (f'<path class="edge" data-from="{source}" data-to="{target}" d="{" ".join(d)}" fill="none" '
            'stroke="#8a94a6" stroke-width="1.6" marker-end="url(#hm-arrow)"/>')


def _node(name: str, box: tuple[float, float, float], counts: Mapping[str, int]) -> str:
    x, y, w = box
    status = task_status(counts)
    color = STATUS_COLORS[status]
    total = sum(counts.values())
    summary = ", ".join(f"{n} {s.lower()}" for s, n in _ordered(counts))
    label = escape(name)
    out = [f'<g class="node" data-task="{label}" data-status="{status}">',
           f"<title>{label}: {escape(summary) or 'no jobs'}</title>",
           f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{NODE_H}" rx="7" fill="{tint(color)}" '
           f'stroke="{color}" stroke-width="2"/>',
           f'<text x="{x + 12:.1f}" y="{y + 21:.1f}" class="node-name">{label}</text>',
           f'<text x="{x + 12:.1f}" y="{y + 38:.1f}" class="node-counts">{_count_line(counts, total)}</text>']
    out += _bar(x + 1, y + NODE_H - BAR_H - 1, w - 2, counts, total)
    out.append("</g>")
    return "\n".join(out)


def _count_line(counts: Mapping[str, int], total: int) -> str:
    done = counts.get("COMPLETE", 0) + counts.get("SUCCESS", 0)
    extra = [f"{n} {s.lower()}" for s, n in _ordered(counts) if s not in ("COMPLETE", "SUCCESS")]
    return escape(" · ".join([f"{done}/{total} done", *extra]))


def _ordered(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return [(s, counts[s]) for s in STATUS_ORDER if counts.get(s)]


def _bar(x: float, y: float, w: float, counts: Mapping[str, int], total: int) -> list[str]:
    """A strip along the box's foot: one segment per status, as wide as its share of the task's jobs."""
    out = []
    for status, n in _ordered(counts):
        part = w * n / total
        out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{part:.1f}" height="{BAR_H}" '
                   f'fill="{STATUS_COLORS[status]}"/>')
        x += part
    return out


_DEFS = ('<defs><marker id="hm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
         'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>')
