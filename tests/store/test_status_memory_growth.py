"""Memory of a run's set-up against the number of done jobs: once the status pass is over, a done job costs
next to nothing (its signature waits on disk for the run record, not in the signer)."""

from __future__ import annotations

import os

from finished import tensor as _tensor
from support.memory import kept_by

from hypermetric.store.staleness import prepare_run


def _kept_by_set_up(root: str, b: int) -> tuple[int, int]:
    """Bytes still allocated once `prepare_run` returned (the `Prepared` alive), and how many jobs are done."""
    os.makedirs(root)
    graph = _tensor(root, 50, b)
    order = graph.order()
    for job_id in order:  # building the jobs is the graph's cost, not the set-up's
        graph.jobs[job_id]
    prepare_run(graph).close()  # fills Python's free lists of small tuples, which tracemalloc counts as kept
    prepared, kept = kept_by(lambda: prepare_run(graph))
    done = sum(prepared.is_done(graph.jobs[i]) for i in order)
    prepared.close()
    return kept, done


def test_a_done_job_costs_next_to_nothing_once_the_run_is_set_up(tmp_path) -> None:
    small, small_done = _kept_by_set_up(str(tmp_path / "small"), 50)
    large, large_done = _kept_by_set_up(str(tmp_path / "large"), 200)
    assert (small_done, large_done) == (2_500, 10_000)
    per_job = (large - small) / (large_done - small_done)
    assert per_job < 16, f"{per_job:.0f} bytes kept per done job"


def test_the_run_record_of_spooled_signatures_is_the_one_the_signer_would_write(tmp_path, monkeypatch) -> None:
    from finished import write as _write

    from hypermetric.store import staleness
    from hypermetric.store.history import RUN_SUMMARY, SIGNATURES, write_run_summary
    from hypermetric.store.runs import write_run_record

    graph = _tensor(str(tmp_path), 10, 10)
    t = [i for i in graph.order() if i.startswith("t")]
    _write(os.path.join(graph.jobs[t[3]].workdir, "job.json"), "{}")  # done, with no signature: `-`
    os.unlink(os.path.join(graph.jobs[t[5]].workdir, "exitcode"))  # to run
    records = []
    for spool in (True, False):
        if not spool:
            monkeypatch.setattr(staleness.DoneSignatures, "spool", lambda *_: None)
        prepared = prepare_run(graph)
        assert (prepared.done_signatures is not None) is spool
        record = write_run_record(str(tmp_path / f"runs-{spool}"), graph.order(), now=0)
        write_run_summary(record, graph, {t[5]: "SUCCESS"}, 0, 1, prepared.signer.known, prepared.not_done,
                          prepared.done_signatures)
        prepared.close()
        folder = os.path.dirname(record)
        records.append([open(os.path.join(folder, name)).read() for name in (SIGNATURES, RUN_SUMMARY)])
    assert records[0] == records[1]
    lines = records[0][0].split("\n")
    assert len(lines) == len(graph.order()) and lines[graph.order().index(t[3])] == "-"
    assert lines[graph.order().index(t[5])] == "" and len(lines[0]) == 20
