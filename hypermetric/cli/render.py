"""Plain-text renderings of pipelines and job graphs (`list`, `dry-run`, `graph`), coloured on a terminal."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator

from hypermetric import __version__
from hypermetric.cli.console import use_color
from hypermetric.cli.dag import draw

HEADER = f"hypermetric {__version__} -- A parameterized pipeline manager"
_ANSI = {"COMPLETE": "32", "OUTDATED": "33", "SUCCESS": "32", "PENDING": "33", "FAILED": "1;31", "SKIPPED": "35",
         "RUNNING": "36",
         "axis": "1;36", "header": "1"}


def paint(text: str, style: str, color: bool) -> str:
    code = _ANSI.get(style)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def write_lines(lines: Iterable[tuple[str, str | None]], color_mode: str = "auto") -> None:
    """Write (text, style) lines to stdout, joined into one `write` per chunk of lines (a dry run may list a
    million jobs; one write each would cost more than planning them)."""
    color = use_color(color_mode)
    out = sys.stdout
    chunk: list[str] = []
    for text, style in lines:
        chunk.append(paint(text, style, color) if style and color else text)
        if len(chunk) >= _CHUNK:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
    out.flush()


_CHUNK = 8192


def task_table(pipeline) -> list[tuple[str, str, list[str]]]:
    """(name, `• name[A, B]` label, upstream names) for every task and package, by name."""
    rows = []
    for name, task in sorted(pipeline.tasks.items()):
        axes = sorted(task.axes)
        label = f"{name}[{', '.join(axes)}]" if axes else name
        rows.append((name, label, sorted(pipeline.upstream(name))))
    return rows


def list_lines(file: str, pipeline) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = [(HEADER, "header"), (f"Pipeline file: {file}", None), ("", None),
                                           ("Variables:", "header")]
    for name, keys in pipeline.axes_in_order():
        lines.append((f"  • {name}: {{ {' '.join(keys)} }}", None))
    lines += [("", None), ("Tasks:", "header")]
    table = task_table(pipeline)
    names = [name for name, _, _ in table]
    edges: dict[str, list[str]] = {name: [] for name in names}
    for name, _, ups in table:
        for up in ups:
            edges.setdefault(up, []).append(name)
    labels = {name: f"• {label}" for name, label, _ in table}
    lines += [(f"  {row}", None) for row in draw(names, edges, labels)]
    return lines


def dry_run_lines(graph) -> Iterator[tuple[str, str | None]]:
    """The header, one line per job in the graph's order with its status, and a summary; jobs are named by
    their labels, never built for it."""
    from hypermetric.store.staleness import Staleness
    from hypermetric.store.status import JobStatus

    order = graph.order()
    plural = len(order) != 1
    yield HEADER, "header"
    yield (f"The following {len(order)} job{'s' if plural else ''} {'are' if plural else 'is'} implied in the "
           f"given target:", None)
    label = graph.label
    styles = {s: s.label if s in (JobStatus.COMPLETE, JobStatus.OUTDATED) else None for s in JobStatus}
    counts: Counter[JobStatus] = Counter()
    for job_id, status, reason in Staleness(graph).each():
        counts[status] += 1
        why = f" ({reason})" if reason else ""
        yield f"{status.symbol} {label(job_id)} {status.label}{why}", styles[status]
    summary = ", ".join(f"{n} {word}" for word, n in sorted((s.label, n) for s, n in counts.items()))
    yield (f"{len(order)} job{'s' if plural else ''}: {summary}" if order else "no jobs", None)


def dot(nodes: dict[str, str], edges: list[tuple[str, str]]) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    out = ["digraph hypermetric {", "  rankdir=LR;", "  node [shape=box];"]
    out += [f"  {ids[n]} [label={_quote(label)}];" for n, label in nodes.items()]
    out += [f"  {ids[a]} -> {ids[b]};" for a, b in edges if a in ids and b in ids]
    return "\n".join(out + ["}"]) + "\n"


def mermaid(nodes: dict[str, str], edges: list[tuple[str, str]]) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    out = ["graph LR"]
    out += [f"  {ids[n]}[{_quote(label)}]" for n, label in nodes.items()]
    out += [f"  {ids[a]} --> {ids[b]}" for a, b in edges if a in ids and b in ids]
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
