"""Results tables as HTML: one per task, or with `--pivot AXIS` one per metric with a column per key of that
axis. Long tables (per-example rows) are cut to their first rows, and the report says so."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from hypermetric.results.arrow import format_value

if TYPE_CHECKING:
    import pyarrow as pa

    from hypermetric.report.collect import TaskResults

MAX_ROWS = 500
_KEY_COLUMNS = ("status", "id", "error")


def render_results(result: TaskResults, pivot: str | None = None) -> str:
    """The HTML of one task's results: a note, or its table(s)."""
    title = f"<h3>{escape(result.task)}" + (f" <small>· {escape(result.output)}</small>" if result.output else "")
    title += "</h3>"
    if result.table is None:
        return f'{title}\n<p class="note">{escape(result.note or "")}</p>'
    if pivot and pivot in result.axes:
        from hypermetric.results.arrow import pivot as pivot_table

        parts = [render_table(part, result.axes, caption=f"{metric} by {pivot}")
                 for metric, part in pivot_table(result.table, pivot, result.axes)]
        return "\n".join([title, *parts])
    return f"{title}\n{render_table(result.table, result.axes)}"


def render_table(table: pa.Table, axes: Sequence[str], caption: str | None = None) -> str:
    """`<table class="results">`: axis and key columns left-aligned, values right-aligned, numbers formatted
    as the terminal shows them."""
    names = table.column_names
    shown = table.slice(0, MAX_ROWS)
    columns = [shown.column(i).to_pylist() for i in range(shown.num_columns)]
    keys = {n for n in names if n in axes or n in _KEY_COLUMNS}
    out = ['<div class="table-wrap"><table class="results">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th class="{_kind(n, keys)}">{escape(n)}</th>' for n in names)
               + "</tr></thead><tbody>")
    for row in zip(*columns):
        out.append("<tr>" + "".join(_cell(n, v, keys) for n, v in zip(names, row)) + "</tr>")
    out.append("</tbody></table></div>")
    if table.num_rows > MAX_ROWS:
        out.append(f'<p class="note">first {MAX_ROWS} of {table.num_rows} rows; '
                   "`hypermetric results ... --to FILE` writes them all</p>")
    return "\n".join(out)


def _kind(name: str, keys: set[str]) -> str:
    return "key" if name in keys else "value"


def _cell(name: str, value: Any, keys: set[str]) -> str:
    text = escape(format_value(value))
    if name == "status" and value is not None:
        return f'<td class="key status-{escape(str(value))}">{text}</td>'
    return f'<td class="{_kind(name, keys)}">{text}</td>'
