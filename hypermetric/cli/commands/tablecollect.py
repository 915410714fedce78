"""`table-collect` (hidden): the command the stdlib's `table.collect` runs inside a job.

`hypermetric table-collect --inputs DIR --output FILE [--per-query]` writes one Parquet table over a
reduction folder (`api.collect_to_parquet`); errors are reported like every other command's.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hypermetric import api

InputsOpt = Annotated[str, typer.Option("--inputs", help="The reduction folder.")]
OutputOpt = Annotated[str, typer.Option("--output", help="The Parquet file to write.")]
PerQueryOpt = Annotated[bool, typer.Option("--per-query",
                                           help="Keep per-query lines of `name id value` text files as rows.")]


def register(app: typer.Typer) -> None:
    app.command("table-collect", hidden=True,
                help="Turn a reduction folder into one Parquet table: a column per reduced axis, then "
                     "values.")(cmd_table_collect)


def cmd_table_collect(inputs: InputsOpt, output: OutputOpt, per_query: PerQueryOpt = False) -> int:
    api.collect_to_parquet(inputs, output, per_query=per_query)
    return 0
