"""The `signatures` file of a run over many done jobs is written a block of lines at a time, and reads back the
same line for line (counting `write` calls, not time)."""

from __future__ import annotations

import os

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.signature import Signature
from hypermetric.store import history
from hypermetric.store.history import SIGNATURES, list_runs, write_run_summary
from hypermetric.store.runs import write_run_record

DONE = 10_000


class _Counting:
    """A text file that counts its `write` calls."""

    def __init__(self, f, writes: list[int]) -> None:
        self._f, self._writes = f, writes

    def write(self, text: str) -> int:
        self._writes.append(len(text))
        return self._f.write(text)

    def __enter__(self):
        self._f.__enter__()
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def test_signatures_of_ten_thousand_done_jobs_take_a_few_writes(tmp_path, monkeypatch) -> None:
    # One `write` per line and one per newline before (20,000 calls here); 3 since.
    ids = [f"t?K={i}" for i in range(DONE)] + ["ran"]
    root = str(tmp_path)
    ran = Job(id="ran", name="ran", case=(), full_case=(), relpath="ran", workdir=f"{root}/ran", script="false",
              variables=(), outputs=(), signature="sig-ran")
    graph = JobGraph({**dict.fromkeys(ids), "ran": ran}, targets=["ran"], root=root, _order=ids)  # type: ignore[dict-item]
    record = write_run_record(root, ids, now=0)
    path = os.path.join(os.path.dirname(record), SIGNATURES)
    writes: list[int] = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        f = real_open(file, *args, **kwargs)
        return _Counting(f, writes) if str(file).startswith(path) and "w" in args[:1] else f

    monkeypatch.setattr(history, "open", counting_open, raising=False)
    known = {i: Signature(f"s{i}", {}) for i in ids}.get
    write_run_summary(record, graph, {"ran": "FAILED"}, 0, 1, known, not_done=())
    assert 0 < len(writes) <= DONE // 4096 + 1 and sum(writes) == os.path.getsize(path)
    with open(path) as f:
        assert f.read() == "\n".join([f"st?K={i}" for i in range(DONE)] + [""])
    (run,) = list_runs(root)
    assert run.job_count == DONE + 1 and run.jobs["t?K=7"] == {"status": "COMPLETE", "signature": "st?K=7"}
