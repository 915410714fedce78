"""How `results` prints a table: a box table on a terminal (one per metric when pivoted), CSV or JSON to a
pipe, and a long form (one row per case and field) when the table is wider than the terminal."""

from __future__ import annotations

import os
import sys

from hypermetric.errors import UsageError


def print_table(table, axes: list[str], pivot: str | None, format: str | None, color: str) -> None:
    from hypermetric.results.arrow import pivot as pivot_table
    from hypermetric.results.arrow import table_to_text_rows

    if format is None:  # a pipe or a file is read by programs: CSV, not a box table cut to 80 columns
        format = "table" if sys.stdout.isatty() else "csv"

    if format in ("csv", "json"):
        import tempfile

        if pivot:
            table = _stacked(pivot_table(table, pivot, axes))

        from hypermetric.results.arrow import write_table

        with tempfile.TemporaryDirectory() as tmp:
            path = write_table(table, os.path.join(tmp, f"table.{format}"), format)
            sys.stdout.write(path.read_text())
        return
    if format == "parquet":
        raise UsageError("parquet output needs a file", help="add --to FILE.parquet")
    tables = pivot_table(table, pivot, axes) if pivot else [("", table)]
    from rich.table import Table

    from hypermetric.cli.console import make_console

    console = make_console(color)
    for title, part in tables:
        header, rows = table_to_text_rows(part)
        keys = [h for h in header if h in axes or h in ("status", "id")]
        if not _fits(header, rows, console.width):
            count = len(header) - len(keys)
            header, rows, keys = _long_form(header, rows, keys)
            sys.stderr.write(f"{count} fields do not fit the terminal, shown one "
                             "per row; choose fields with --columns or spread an axis with --pivot\n")
        view = Table(title=title or None, header_style="bold")
        for name in header:
            view.add_column(name, justify="left" if name in keys else "right")
        for row in rows:
            view.add_row(*row)
        console.print(view)


def _fits(header: list[str], rows: list[list[str]], width: int) -> bool:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) + 3 for i, h in enumerate(header)]
    return sum(widths) + 1 <= width


def _long_form(header: list[str], rows: list[list[str]], keys: list[str]):
    """A table too wide for the terminal: one row per case and field."""
    index = {h: i for i, h in enumerate(header)}
    fields = [h for h in header if h not in keys]
    out = [[*(row[index[k]] for k in keys), name, row[index[name]]] for row in rows for name in fields]
    return [*keys, "field", "value"], out, [*keys, "field"]


def _stacked(parts):
    """Pivoted tables, one per metric, as one table for a program: a leading `metric` column says which."""
    import pyarrow as pa

    tables = [part.add_column(0, "metric", pa.array([title] * part.num_rows, pa.string()))
              for title, part in parts]
    return pa.concat_tables(tables, promote_options="permissive")
