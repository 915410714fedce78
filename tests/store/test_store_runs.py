"""Run records under `<root>/.runs`: unique directories, exact lines, parsing ids back."""

from __future__ import annotations

import os
import time

import pytest

from hypermetric.store.runs import parse_job_id, read_run_records, write_run_record


def test_record_lists_ids_without_trailing_newline(tmp_path) -> None:
    path = write_run_record(str(tmp_path), ["a", "b?A=x"], now=0)
    assert os.path.basename(os.path.dirname(path)) == time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(0))
    with open(path) as f:
        assert f.read() == "a\nb?A=x"


def test_collisions_get_suffixes_and_read_back_in_order(tmp_path) -> None:
    paths = [write_run_record(str(tmp_path), [f"j{i}"], now=1000) for i in range(12)]
    names = [os.path.basename(os.path.dirname(p)) for p in paths]
    assert names[1].endswith("_2") and names[11].endswith("_12")
    assert read_run_records(str(tmp_path)) == [[f"j{i}"] for i in range(12)]


def test_no_records(tmp_path) -> None:
    assert read_run_records(str(tmp_path)) == []


def test_parse_job_id() -> None:
    assert parse_job_id("o/t") == ("o.t", {})
    assert parse_job_id("o/t?A=y&Tag=p+q%2Fr") == ("o.t", {"A": "y", "Tag": "p q/r"})
    assert parse_job_id("t?B=1&a=%7E") == ("t", {"B": "1", "a": "~"})


@pytest.mark.parametrize("bad", ["", "?A=x", "t?A", "t?=x", "/t", "t/"])
def test_parse_job_id_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_job_id(bad)
