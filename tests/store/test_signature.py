"""Job signatures and staleness reasons, on hand-made graphs (no CLI)."""

from __future__ import annotations

import os

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import InputLink, Job, ReductionEntry
from hypermetric.plan.signature import Signer, normalize_script
from hypermetric.store.staleness import explain


def make_job(root: str, name: str, script: str = "echo hi > $o", variables=(), inputs=(), deps=()) -> Job:
    workdir = f"{root}/{name}/default"
    return Job(id=name, name=name, case=(), full_case=(), relpath=f"{name}/default", workdir=workdir,
               script=script, variables=tuple(variables) + (("o", f"{workdir}/o"),), outputs=(("o", "o"),),
               inputs=tuple(inputs), deps=tuple(deps))


def graph_of(root: str, *jobs: Job) -> JobGraph:
    return JobGraph({j.id: j for j in jobs}, [jobs[-1].id], root)


def test_normalize_drops_trailing_whitespace_and_blank_lines_only() -> None:
    assert normalize_script("a  \n\n  b\t\n   \n") == "a\n  b"
    assert normalize_script("a b") != normalize_script("a  b")


def test_signature_covers_script_values_and_upstream(tmp_path) -> None:
    root = str(tmp_path)
    a = make_job(root, "a", variables=(("x", "1"),))
    b = make_job(root, "b", inputs=(InputLink("i", target=f"{a.workdir}/o"),),
                 variables=(("i", f"{a.workdir}/o"),), deps=("a",))
    base = Signer(graph_of(root, a, b)).signature("b")
    assert base.built_from["inputs"] == {"i": ["a.o", Signer(graph_of(root, a, b)).signature("a").digest]}
    assert base.built_from["values"] == {}  # the input's absolute path is not a value
    same = make_job(root, "a", script="echo hi > $o   \n\n", variables=(("x", "1"),))
    assert Signer(graph_of(root, same, b)).signature("b").digest == base.digest
    changed = make_job(root, "a", variables=(("x", "2"),))
    new = Signer(graph_of(root, changed, b)).signature("b")
    assert new.digest != base.digest
    assert explain(base.built_from, new.built_from) == "input a.o changed"
    old_a = Signer(graph_of(root, a, b)).signature("a").built_from
    assert explain(old_a, Signer(graph_of(root, changed, b)).signature("a").built_from) == \
        "value of x changed: 1 → 2"


def test_moving_the_root_keeps_signatures(tmp_path) -> None:
    sigs = []
    for root in (str(tmp_path / "one"), str(tmp_path / "two")):
        a = make_job(root, "a")
        b = make_job(root, "b", inputs=(InputLink("i", target=f"{a.workdir}/o"),),
                     variables=(("i", f"{a.workdir}/o"),), deps=("a",))
        sigs.append(Signer(graph_of(root, a, b)).signature("b").digest)
    assert sigs[0] == sigs[1]


def test_reduction_entries_added_and_removed(tmp_path) -> None:
    root = str(tmp_path)
    ups = [make_job(root, f"t{k}") for k in range(3)]

    def reducer(keys):
        entries = tuple(ReductionEntry(f"M={k}", f"{ups[k].workdir}/o", (("M", str(k)),)) for k in keys)
        return make_job(root, "r", inputs=(InputLink("x", is_reduction=True, entries=entries),),
                        variables=(("x", f"{root}/r/default/x"),), deps=tuple(f"t{k}" for k in keys))

    before = Signer(graph_of(root, *ups, reducer([0, 1]))).signature("r")
    after = Signer(graph_of(root, *ups, reducer([0, 2]))).signature("r")
    assert before.digest != after.digest
    assert explain(before.built_from, after.built_from) == "reduction entries changed: +M=2 -M=1"


def test_input_file_hashed_only_when_size_or_mtime_change(tmp_path, monkeypatch) -> None:
    root = str(tmp_path / "out")
    data = tmp_path / "data.txt"
    data.write_text("one\n")
    os.utime(data, (1_000_000_000, 1_000_000_000))
    job = make_job(root, "c", inputs=(InputLink("d", target=str(data)),), variables=(("d", str(data)),))
    first = Signer(graph_of(root, job)).signature("c")
    hashed = []
    import hypermetric.plan.signature as signature

    real = signature._hash_file
    monkeypatch.setattr(signature, "_hash_file", lambda path: hashed.append(path) or real(path))
    hint = Signer(graph_of(root, job), lambda j: first.built_from).signature("c")
    assert hint.digest == first.digest and hashed == []  # size and mtime match the record: no hashing
    os.utime(data, (1_000_000_100, 1_000_000_100))
    touched = Signer(graph_of(root, job), lambda j: first.built_from).signature("c")
    assert touched.digest == first.digest and hashed == [str(data)]  # same content: same signature
    data.write_text("two\n")
    changed = Signer(graph_of(root, job), lambda j: first.built_from).signature("c")
    assert changed.digest != first.digest
    assert explain(first.built_from, changed.built_from).startswith("input file ")


def test_unrecorded_components_give_no_reason() -> None:
    assert explain(None, {"script": "x"}) is None
    assert explain({"values": {}}, {"script": "x"}) is None
