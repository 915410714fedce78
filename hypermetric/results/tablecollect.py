"""A reduction folder (one entry per case) to one Parquet file: the engine of the stdlib's `table.collect`.

Run as `python -m hypermetric.results.tablecollect --inputs DIR --output FILE [--per-query]`. Each entry of
DIR is read like a single output file; its case comes from DIR's `.manifest.arrow` (or, without one, from the
entry's name). Entries that are missing or unreadable are kept as rows with a `status`, as in `results`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hypermetric.errors import HmError
from hypermetric.results.collect import CaseResult
from hypermetric.results.manifest import read_entries

if TYPE_CHECKING:
    import pyarrow as pa


def collect_folder(inputs: str | os.PathLike[str], *, per_query: bool = False) -> pa.Table:
    """One table over every entry of the reduction folder `inputs`: axis columns, `status`, then values."""
    from hypermetric.results.assemble import collect_table

    axes, entries = read_entries(inputs)
    cases = [CaseResult(case=_in_axis_order(case, axes), path=path) for _, case, path in entries]
    return collect_table(cases, axes, per_query=per_query)


def collect_to_parquet(inputs: str | os.PathLike[str], output: str | os.PathLike[str], *,
                       per_query: bool = False) -> Path:
    """Write the table of `collect_folder(inputs)` to `output` as Parquet, whatever its suffix."""
    from hypermetric.results.arrow import write_table

    return write_table(collect_folder(inputs, per_query=per_query), output, format="parquet")


def _in_axis_order(case: dict[str, str], axes: Sequence[str]) -> dict[str, str]:
    return {axis: case[axis] for axis in axes if axis in case}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hypermetric.results.tablecollect",
        description="Turn a reduction folder into one Parquet table: a column per reduced axis, then values.")
    parser.add_argument("--inputs", required=True, help="the reduction folder")
    parser.add_argument("--output", required=True, help="the Parquet file to write")
    parser.add_argument("--per-query", action="store_true",
                        help="keep per-query lines of `name id value` text files as rows")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0, or 2 when the folder cannot be read or on usage)."""
    args = _parser().parse_args(argv)
    try:
        collect_to_parquet(args.inputs, args.output, per_query=args.per_query)
    except HmError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
