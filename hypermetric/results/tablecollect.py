"""A reduction folder (one entry per case) to one Parquet file: the engine of the stdlib's `table.collect`.

Each entry of the folder is read like a single output file; its case comes from the folder's
`.manifest.arrow` (or, without one, from the entry's name). Entries that are missing or unreadable are kept
as rows with a `status`, as in `results`. Python callers use `api.collect_folder`; jobs run
`hypermetric table-collect --inputs DIR --output FILE [--per-query]`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
