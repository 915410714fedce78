"""Every example parses and dry-runs; the small ones run end to end (the BEIR one is `make demo`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob("*/*.hm"))
SMALL = {"hello/hello.hm": ["hello"], "sweep/sweep.hm": ["Sweep"], "reduction/reduction.hm": ["summarize"],
         "decorator/decorator.hm": ["hello[Sender: *]", "tick[Times: *]"]}


@pytest.fixture
def example(project):
    def copy(rel: str) -> Path:
        src = EXAMPLES / rel
        shutil.copytree(src.parent, project.root / src.parent.name, ignore=shutil.ignore_patterns("out"))
        return project.root / src.parent.name / src.name
    return copy


@pytest.mark.parametrize("rel", ALL)
def test_every_example_lists_and_dry_runs(project, example, rel):
    path = example(rel)
    listing = project.run("list", str(path)).ok().out
    assert "Tasks:" in listing
    plans = [line.split()[1] for line in path.read_text().splitlines() if line.startswith("plan ")]
    targets = plans or [listing.split("Tasks:")[1].split("•")[1].split()[0].split("[")[0]]
    project.run("dry-run", str(path), *targets).ok()


@pytest.mark.parametrize("rel", sorted(SMALL))
def test_small_examples_run_and_cache(project, example, rel):
    path = example(rel)
    targets = SMALL[rel]
    if targets is None:
        targets = [line.split()[1] for line in path.read_text().splitlines() if line.startswith("plan ")]
    assert targets, f"{rel} needs a plan or explicit targets"
    project.run("run", str(path), *targets, "-j2").ok()
    outputs = list((project.root / "out").rglob("exitcode"))
    assert outputs and all(p.read_text() == "0" for p in outputs)
    again = project.run("run", str(path), *targets).ok()
    assert "RUNNING" not in again.out


def test_beir_lists_the_tutorial_dag(project, example):
    path = example("beir/beir.hm")
    out = project.run("list", str(path)).ok().out
    for name in ("raw_beir_data[Dataset]", "beir_to_trec[Dataset]", "index[Dataset, K1]", "evaluate[Dataset, K1]",
                 "aggregate_metric[K1, Metric]"):
        assert name in out
    dry = project.run("dry-run", str(path), "RunBEIR").ok().out
    assert dry.splitlines()[-1] == "47 jobs: 47 PENDING"
