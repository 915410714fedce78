"""Writing a reduction's manifest, which a job runner does for every job with a reduction input, never
imports pandas (half a second of CPU), and keeps nulls, empty lists and any text as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import hypermetric
from hypermetric.results.manifest import read_entries, read_manifest, write_manifest

_WRITE = """
import sys
from hypermetric.results.manifest import write_manifest
write_manifest(sys.argv[1], [("A=1", {"A": "1"}, "/out/t/A=1/o")], ["A"])
print("pandas" in sys.modules)
"""


def test_writing_a_manifest_does_not_import_pandas(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    package_root = str(Path(hypermetric.__file__).parent.parent)  # the hypermetric this test imported
    out = subprocess.run([sys.executable, "-c", _WRITE, str(tmp_path / "d")], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": package_root})
    assert out.stdout.strip() == "False"
    assert read_entries(tmp_path / "d") == (["A"], [("A=1", {"A": "1"}, "/out/t/A=1/o")])


def test_nulls_and_any_text_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    entries = [(f"E{i}", {"A": f"é{i}"} if i % 3 else {}, f"/out/∂/{i}") for i in range(11)]
    write_manifest(folder, entries, ["A", "B"])
    table = read_manifest(folder)
    table.validate(full=True)
    assert table.column("A").null_count == 4 and table.column("B").null_count == 11
    assert read_entries(folder) == (["A", "B"], entries)


def test_an_empty_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_manifest(folder, [], [])
    table = read_manifest(folder)
    assert table.num_rows == 0 and table.column_names == ["entry", "path"]
