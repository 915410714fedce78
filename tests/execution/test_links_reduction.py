"""A reduction's folder of links: each link is what `os.path.relpath` gives, computed without it for
targets that are already absolute and normal, and each entry costs one `symlink` and no other system call."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypermetric.execution import links
from hypermetric.execution.links import RelativeTo, link_input
from hypermetric.plan.job import InputLink, ReductionEntry
from hypermetric.results.manifest import read_entries

STARTS = ["/", "/a", "/a/b/c", "/a/bc", "/tmp/out/r/A=1/x", "relative/dir", ".", "/a/b/", "/a//b"]
TARGETS = ["/", "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/bc/d", "/a/b/cd", "/x/y", "/tmp/out/t/A=1&B=2/out",
           "/a/./b", "/a/../b", "/a//b", "/a/b/", "/a/b/.", "/a/b/..", "//a", "rel/x", "../up", ".", "/é/∂"]


@pytest.mark.parametrize("start", STARTS)
def test_relative_to_agrees_with_relpath(start: str) -> None:
    relative = RelativeTo(start)
    assert [relative(target) for target in TARGETS] == [os.path.relpath(target, start) for target in TARGETS]


_PART = st.sampled_from(["a", "b", "ab", "A=1&B=2", ".", "..", "", "é", "x y"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PART, max_size=6), st.lists(_PART, max_size=6), st.booleans(), st.booleans())
def test_relative_to_agrees_with_relpath_on_any_paths(start: list[str], target: list[str], absolute_start: bool,
                                                      absolute_target: bool) -> None:
    start_path = ("/" if absolute_start else "") + "/".join(start)
    target_path = ("/" if absolute_target else "") + "/".join(target)
    if not start_path or not target_path:
        return
    assert RelativeTo(start_path)(target_path) == os.path.relpath(target_path, start_path)


def reduction(root: Path, n: int) -> InputLink:
    entries = tuple(ReductionEntry(f"B={i}", f"{root}/out/t/B={i}/o", (("B", str(i)),)) for i in range(n))
    for entry in entries:
        Path(entry.target).parent.mkdir(parents=True)
        Path(entry.target).write_text(entry.name)
    return InputLink("x", is_reduction=True, entries=entries)


_counts: dict[str, int] | None = None  # the os calls being counted, while `counting_calls` runs


def _hook(event: str, _args: object) -> None:
    if _counts is not None and event.startswith("os.") and event[3:] in _counts:
        _counts[event[3:]] += 1


sys.addaudithook(_hook)  # an audit hook cannot be removed: it counts only inside `counting_calls`


@contextmanager
def counting_calls(names: tuple[str, ...]) -> Iterator[dict[str, int]]:
    """Counts the `os` functions among `names` that run (audit events `os.<name>`)."""
    global _counts
    _counts = dict.fromkeys(names, 0)
    try:
        yield _counts
    finally:
        _counts = None


def test_a_reduction_folder_costs_one_symlink_per_entry(tmp_path: Path) -> None:
    link = reduction(tmp_path, 50)
    workdir = tmp_path / "out" / "r" / "default"
    workdir.mkdir(parents=True)
    with counting_calls(("symlink", "mkdir", "remove")) as counts:
        link_input(str(workdir), link)
    assert counts == {"symlink": 50, "mkdir": 1, "remove": 0}
    folder = workdir / "x"
    assert sorted(os.listdir(folder)) == sorted(f"B={i}" for i in range(50))
    assert all(os.readlink(folder / f"B={i}") == f"../../../t/B={i}/o" for i in range(50))
    assert all((folder / f"B={i}").read_text() == f"B={i}" for i in range(50))
    assert read_entries(folder) == (["B"], [(e.name, dict(e.case), e.target) for e in link.entries])


def test_relpath_runs_once_per_folder_not_per_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    relpath = os.path.relpath
    monkeypatch.setattr(links.os.path, "relpath", lambda *args: calls.append(args) or relpath(*args))
    workdir = tmp_path / "w"
    workdir.mkdir()
    link_input(str(workdir), reduction(tmp_path, 20))
    assert calls == []


def test_an_entry_with_an_unusual_target_still_links_right(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "o").write_text("o")
    entries = (ReductionEntry("a", f"{tmp_path}/t/./o", ()), ReductionEntry("b", f"{tmp_path}//t/../t/o", ()))
    workdir = tmp_path / "w"
    workdir.mkdir()
    link_input(str(workdir), InputLink("x", is_reduction=True, entries=entries))
    assert [os.readlink(workdir / "x" / name) for name in "ab"] == ["../../t/o", "../../t/o"]
