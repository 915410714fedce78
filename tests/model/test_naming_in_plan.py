"""The naming rule where it runs: the planner's job ids, job directories and reduction entry names for keys
that need every kind of escaping, checked against an oracle written independently of `hypermetric.percent`."""

from __future__ import annotations

import hashlib
from urllib.parse import quote_plus

import pytest
from semantics.helpers import plan

from hypermetric.model.case import CaseNames, case_of_dirname, dirname, job_id, parse_job_id

# Every printable ASCII character inside a key, space included, then non-ASCII text and a key long enough
# that its directory name must be hashed.
TRICKY = [f"a{chr(c)}b" for c in range(0x20, 0x7F)] + ["é", "中文", "ü ö", "x" * 300, "1e-3", "-", "."]


def java_form_encode(key: str) -> str:
    """What Java's `URLEncoder.encode(key, "UTF-8")` returns: like `quote_plus`, except that Java keeps `*`
    and escapes `~`."""
    return quote_plus(key, safe="*").replace("~", "%7E")


def expected_dir(axis: str, key: str) -> str:
    text = f"{axis}={java_form_encode(key)}"
    return text if len(text.encode()) <= 255 else hashlib.md5(text.encode()).hexdigest()


def hm_string(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("naming")
    keys = " ".join(hm_string(k) for k in ["plain", *TRICKY])
    src = (f"tag = {{Tag: {keys}}}\ntask t(tag=$) -> o:\n  touch $o\n"
           "task r(d=$t[Tag: *].o) -> o:\n  touch $o\n")
    return plan(root, src, "r", "t[Tag: *]")


@pytest.mark.parametrize("key", TRICKY, ids=[f"{i}" for i in range(len(TRICKY))])
def test_planned_job_names_match_hypermake(graph, key):
    job = graph.jobs[f"t?Tag={java_form_encode(key)}"]
    assert job.relpath == f"t/{expected_dir('Tag', key)}"
    assert job.workdir.endswith(job.relpath) and "/" not in job.relpath[2:]
    assert parse_job_id(job.id) == ("t", {"Tag": key})


def test_reduction_entries_use_the_same_names(graph):
    (entries,) = [link.entries for link in graph.jobs["r"].inputs if link.is_reduction]
    names = [entry.name for entry in entries]
    assert names == ["default", *(expected_dir("Tag", key) for key in TRICKY)]
    assert len(set(names)) == len(names)
    for entry, key in zip(entries[1:], TRICKY):
        spelled = case_of_dirname(entry.name)
        assert spelled == ({"Tag": key} if len(entry.name) != 32 or "=" in entry.name else {})


def test_the_memoised_rule_agrees_with_the_plain_one():
    names = CaseNames()
    for pairs in [(), (("A", "x y"),), (("B", "1"), ("a", "é")), (("T", "k" * 300),)]:
        for _ in range(2):  # the second time from the memo
            assert names.job("o/t", pairs) == (job_id("o.t", pairs), f"o/t/{dirname(pairs)}")
            assert names.dirname(pairs, 20) == dirname(pairs, 20)
