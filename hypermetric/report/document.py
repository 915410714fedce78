"""The report page: one HTML file with its style sheet inline and every picture as inline SVG, so that it opens
anywhere, offline, and can be mailed or archived as it is. It has no script and loads nothing."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1f2933; margin: 0; background: #f6f7f9; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 12px; border-bottom: 1px solid #d9dee5; }
h3 { font-size: 15px; margin: 20px 0 8px; } h3 small { font-weight: normal; color: #52606d; }
section { background: #fff; border: 1px solid #e1e5eb; border-radius: 8px; padding: 4px 20px 16px; margin: 16px 0; }
.meta, .note { color: #52606d; } code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.badge { display: inline-block; border: 2px solid; border-radius: 12px; padding: 1px 10px; margin: 2px; }
.total { font-weight: bold; margin-right: 8px; }
table { border-collapse: collapse; margin: 8px 0; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e7eb; text-align: right; white-space: nowrap; }
th { background: #eef1f5; } th.key, td.key { text-align: left; }
.table-wrap { overflow-x: auto; max-height: 640px; overflow-y: auto; }
td.status-FAILED, td.status-MISSING, td.status-UNREADABLE, td.status-EMPTY { color: #b84700; font-weight: bold; }
td.status-OUTDATED { color: #9a6700; } td.status-PENDING { color: #7f8c9a; }
.failure { border-left: 4px solid #d55e00; padding: 0 12px; margin: 12px 0; }
.failure pre { background: #1f2933; color: #e4e7eb; padding: 10px; overflow-x: auto; max-height: 360px; }
.graph-wrap { overflow-x: auto; }
svg.task-graph .node-name { font: bold 13px sans-serif; fill: #1f2933; }
svg.task-graph .node-counts { font: 11px sans-serif; fill: #3e4c59; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart-box { border: 1px solid #e4e7eb; border-radius: 6px; padding: 8px; background: #fff; }
"""


def section(title: str, anchor: str, body: Sequence[str]) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>\n' + "\n".join(body) + "\n</section>"


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style></head>\n<body><main>\n"
            f"<h1>{escape(title)}</h1>\n<p class=\"meta\">{escape(subtitle)}</p>\n"
            + "\n".join(sections) + "\n</main></body></html>\n")


def chart_boxes(task: str, axis: str | None, charts: Sequence[tuple[str, str, bool]], note: str | None) -> str:
    """A task's charts side by side, each SVG in a box, with what the whiskers mean."""
    head = f"<h3>{escape(task)}" + (f" <small>· over {escape(axis)}</small>" if axis else "") + "</h3>"
    if any(with_ci for _, _, with_ci in charts):
        head += '<p class="note">bars: mean over the examples of each case; whiskers: 95% bootstrap interval</p>'
    boxes = [f'<div class="chart-box" data-metric="{escape(metric)}">{_strip_xml_header(svg)}</div>'
             for metric, svg, _ in charts]
    tail = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'{head}<div class="charts">{"".join(boxes)}</div>{tail}'


def _strip_xml_header(svg: str) -> str:
    """An SVG document's `<?xml ...?>` line is not allowed inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start > 0 else svg
