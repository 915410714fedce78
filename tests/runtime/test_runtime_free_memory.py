"""The driver's native memory between 100,000 and 1,000,000 rows: freed memory goes back to the system as rows
commit and before reconciliation, and reconciliation holds windows of about 32,768 rows (counted, never
timed or measured in bytes)."""

from __future__ import annotations

import platform

import pyarrow.parquet as pq
import pytest
import runtime_helpers as h
from test_runtime_local import run_local

from hypermetric.runtime.parts import free_memory, reconcile


@pytest.fixture
def trims(monkeypatch):
    """Counts the calls that give free memory back, in the driver's cadence and in reconciliation."""
    calls: list[str] = []
    monkeypatch.setattr(free_memory, "give_back_free_memory", lambda: calls.append("driver") or True)
    monkeypatch.setattr(reconcile, "give_back_free_memory", lambda: calls.append("reconcile") or True)
    return calls


def test_cadence_gives_back_once_per_step_of_committed_rows(trims):
    cadence = free_memory.FreeMemoryCadence(every=100)
    for rows in (50, 99, 100, 150, 199, 200, 1_000, 1_050, 1_100):
        cadence.committed(rows)
    assert trims == ["driver"] * 4  # at 100, 200, 1,000 (a jump counts once) and 1,100


def test_a_run_gives_back_free_memory_as_rows_commit_and_once_before_reconciling(tmp_path, monkeypatch, trims):
    monkeypatch.setattr(free_memory, "TRIM_ROWS", 100)
    result = run_local(h.pipeline, tmp_path, h.records(1_000), batch_size=10, flush_rows=50)
    assert result.rows == 1_000
    # At most one trim per 100 committed rows, and one at least every 100 rows plus what one commit adds
    # (a part: about 50 rows here).
    assert 1_000 // 200 <= trims.count("driver") <= 1_000 // 100 and trims.count("reconcile") == 1


def test_reconciliation_writes_windows_of_about_32768_rows(tmp_path):
    result = run_local(h.pipeline, tmp_path, h.records(70_000), batch_size=1_000, flush_rows=10_000)
    metadata = pq.ParquetFile(result.path).metadata
    groups = [metadata.row_group(index).num_rows for index in range(metadata.num_row_groups)]
    # Each window is written as it is laid out: batches up to 32,768 rows, and the batch that passes them.
    assert sum(groups) == 70_000 and max(groups) <= 32_768 + 1_000


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_free_memory_goes_back_through_glibc_malloc_trim():
    assert free_memory._malloc_trim() is not None and free_memory.give_back_free_memory()
