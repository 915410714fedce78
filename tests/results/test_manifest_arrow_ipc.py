"""The manifest is written without pyarrow (`results.arrow_ipc`): pyarrow reads back exactly the table and
schema that pyarrow's own writer made, and a run whose jobs read a reduction never imports pyarrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pytest
from pyarrow import ipc

from hypermetric.results.arrow_ipc import string_table_file
from hypermetric.results.manifest import manifest_path, read_entries, read_manifest, write_manifest

Entry = tuple[str, dict[str, str], str]


def pyarrow_manifest(folder: Path, entries: Sequence[Entry], axes: Sequence[str]) -> pa.Table:
    """The table that the manifest writer built with pyarrow before, to compare against."""
    names = [*axes, "entry", "path"]
    columns = [[case.get(axis) for _, case, _ in entries] for axis in axes]
    columns.append([name for name, _, _ in entries])
    columns.append([os.path.abspath(os.path.join(folder, path)) for _, _, path in entries])
    schema = pa.schema([pa.field(name, pa.string()) for name in names],
                       metadata={b"hypermetric.axes": json.dumps(list(axes)).encode()})
    return pa.Table.from_arrays([pa.array(column, pa.string()) for column in columns], schema=schema)


def read_back(path: Path) -> tuple[pa.Table, int]:
    with pa.memory_map(str(path)) as source:
        reader = ipc.open_file(source)
        return reader.read_all(), reader.num_record_batches


def many_entries(n: int) -> list[Entry]:
    return [(f"A={i}&B={i % 7}", {"A": str(i), "B": str(i % 7)}, f"/out/t/A={i}&B={i % 7}/o") for i in range(n)]


CASES: dict[str, tuple[list[Entry], list[str]]] = {
    "no rows": ([], ["A"]),
    "no rows, no axes": ([], []),
    "one row": ([("A=1", {"A": "1"}, "/out/t/A=1/o")], ["A"]),
    "unicode": ([("M=%C3%A9", {"M": "é∂😀"}, "/out/∂/é/😀"), ("M=x", {"M": ""}, "/o/x")], ["M"]),
    "null axis values": ([(f"E{i}", {"A": f"a{i}"} if i % 3 else {}, f"/o/{i}") for i in range(17)], ["A", "B"]),
    "relative targets": ([("default", {}, "../t/default/out"), ("x", {}, "./a/../b")], []),
    "100k rows": (many_entries(100_000), ["A", "B"]),
    "many axes": ([(f"E{j}", {f"X{i}": f"{i}-{j}" for i in range(j % 40)}, f"/o/{j}") for j in range(50)],
                  [f"X{i}" for i in range(40)]),
    "axes named entry and path": ([("path=p&entry=e", {"path": "p", "entry": "e"}, "/x")], ["path", "entry"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_pyarrow_reads_what_pyarrow_wrote(tmp_path: Path, case: str) -> None:
    entries, axes = CASES[case]
    folder = tmp_path / "d"
    folder.mkdir()
    path = write_manifest(folder, entries, axes)
    table, batches = read_back(path)
    table.validate(full=True)
    expected = pyarrow_manifest(folder, entries, axes)
    assert table.schema.equals(expected.schema, check_metadata=True)
    assert [field.nullable for field in table.schema] == [True] * len(table.schema)
    assert table.equals(expected, check_metadata=True)
    assert batches == 1
    assert read_manifest(folder).equals(expected)
    assert read_entries(folder) == (list(axes), [(n, c, str(Path(folder, p).resolve())) for n, c, p in entries]
                                    if case == "relative targets" else entries)


def test_the_file_is_also_a_stream_after_its_magic(tmp_path: Path) -> None:
    """The messages between the leading magic and the footer form an Arrow stream, ended by its marker."""
    parts = string_table_file(["a", "b"], [["x", None], ["y", "z"]], [(b"k", b"v")])
    data = b"".join(parts)
    assert data[:8] == b"ARROW1\0\0" and data[-6:] == b"ARROW1"
    table = ipc.open_stream(pa.BufferReader(data[8:])).read_all()
    assert table.to_pydict() == {"a": ["x", None], "b": ["y", "z"]}
    assert table.schema.metadata == {b"k": b"v"}


def test_every_part_starts_on_an_8_byte_boundary() -> None:
    parts = string_table_file(["a"], [["xyz", None, "é"]], [])
    at = 0
    for part in parts[:-3]:  # the footer's length and the closing magic follow the footer unaligned
        assert at % 8 == 0
        at += len(part)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        string_table_file(["a", "b"], [["x"], []])
    with pytest.raises(ValueError, match="one name per column"):
        string_table_file(["a"], [["x"], ["y"]])


def test_a_failed_write_leaves_the_old_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_manifest(folder, [("A=1", {"A": "1"}, "/a")], ["A"])
    with pytest.raises(AttributeError):
        write_manifest(folder, [("A=2", {"A": 2}, "/b")], ["A"])  # type: ignore[dict-item]
    assert read_entries(folder) == (["A"], [("A=1", {"A": "1"}, "/a")])
    assert sorted(os.listdir(tmp_path)) == [manifest_path(folder).name, "d"]


_RUN = """
import sys
from hypermetric.cli.app import main
assert main(["run", "main.hm", "r", "-j2", "-y"]) == 0
print(sorted(n for n in ("pyarrow", "pandas") if n in sys.modules))
"""


def test_a_run_whose_job_reads_a_reduction_does_not_import_pyarrow(tmp_path: Path) -> None:
    (tmp_path / "main.hm").write_text("a = {A: x y z}\n\ntask t(a=$) -> o:\n  echo $a > $o\n\n"
                                      "task r(x=$t[A: *].o) -> o:\n  cat $x/* > $o\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    proc = subprocess.run([sys.executable, "-c", _RUN], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**env, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
    job = tmp_path / "out" / "r" / "default"
    assert sorted((job / "o").read_text().split()) == ["x", "y", "z"]
    axes, entries = read_entries(job / "x")
    assert axes == ["A"] and [case["A"] + "\n" for _, case, _ in entries] == [
        Path(target).read_text() for _, _, target in entries]
    assert sorted(case["A"] for _, case, _ in entries) == ["x", "y", "z"]
