"""The manifest beside each reduction folder (`.<name>.manifest.arrow`), and entry names as a fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from hypermetric.results.manifest import (
    case_from_entry_name,
    manifest_axes,
    manifest_path,
    read_entries,
    read_manifest,
    write_manifest,
)
from hypermetric.results.readers import MissingResultError, ResultReadError


def test_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    entries = [
        ("default", {"Lr": "0.1", "Opt": "sgd"}, "/out/train/default/log"),
        ("Lr=0.01", {"Lr": "0.01", "Opt": "sgd"}, "/out/train/Lr=0.01/log"),
    ]
    path = write_manifest(folder, entries, ["Lr", "Opt"])
    assert Path(path) == manifest_path(folder) == tmp_path / ".d.manifest.arrow"
    table = read_manifest(folder)
    assert table.column_names == ["Lr", "Opt", "entry", "path"]
    assert table.schema.types == [pa.string()] * 4
    assert table.to_pylist() == [
        {"Lr": "0.1", "Opt": "sgd", "entry": "default", "path": "/out/train/default/log"},
        {"Lr": "0.01", "Opt": "sgd", "entry": "Lr=0.01", "path": "/out/train/Lr=0.01/log"},
    ]
    assert manifest_axes(table) == ["Lr", "Opt"]
    assert read_entries(folder) == (["Lr", "Opt"], entries)
    assert os.listdir(folder) == [] and sorted(os.listdir(tmp_path)) == [".d.manifest.arrow", "d"]


def test_relative_paths_are_made_absolute_from_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_manifest(folder, [("default", {}, "../t/default/out")], [])
    assert read_manifest(folder).column("path").to_pylist() == [
        str(folder.parent / "t" / "default" / "out")
    ]


def test_axes_may_be_called_entry_or_path(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_manifest(folder, [("path=p&entry=e", {"path": "p", "entry": "e"}, "/x")], ["path", "entry"])
    assert read_entries(folder) == (
        ["path", "entry"],
        [("path=p&entry=e", {"path": "p", "entry": "e"}, "/x")],
    )


def test_rewrite_replaces_the_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_manifest(folder, [("A=1", {"A": "1"}, "/a")], ["A"])
    write_manifest(folder, [("A=2", {"A": "2"}, "/b"), ("A=3", {"A": "3"}, "/c")], ["A"])
    assert read_manifest(folder).column("A").to_pylist() == ["2", "3"]
    assert os.listdir(folder) == [] and sorted(os.listdir(tmp_path)) == [".d.manifest.arrow", "d"]


def test_missing_and_corrupt_manifests(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(MissingResultError):
        read_manifest(folder)
    manifest_path(folder).write_text("junk")
    with pytest.raises(ResultReadError, match="not a readable manifest"):
        read_manifest(folder)


@pytest.mark.parametrize(
    ("name", "case"),
    [
        ("default", {}),
        ("Lr=0.01", {"Lr": "0.01"}),
        ("A=x&B=y", {"A": "x", "B": "y"}),
        ("Data=a+b%26c&Model=%C3%A9", {"Data": "a b&c", "Model": "é"}),
        ("0cc175b9c0f1b6a831c399e269772661", {}),
    ],
    ids=["default", "one", "two", "encoded", "hashed"],
)
def test_case_from_entry_name(name: str, case: dict) -> None:
    assert case_from_entry_name(name) == case


def test_entries_from_names_without_manifest(tmp_path: Path) -> None:
    for name in ["default", "B=2", "A=1&B=2", ".hidden"]:
        (tmp_path / name).write_text("x")
    axes, entries = read_entries(tmp_path)
    assert axes == ["A", "B"]
    assert entries == [
        ("A=1&B=2", {"A": "1", "B": "2"}, str(tmp_path / "A=1&B=2")),
        ("B=2", {"B": "2"}, str(tmp_path / "B=2")),
        ("default", {}, str(tmp_path / "default")),
    ]


def test_entries_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MissingResultError):
        read_entries(tmp_path / "nope")
