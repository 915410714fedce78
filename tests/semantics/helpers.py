"""Helpers for semantic and planning tests: write a project, load it, plan it, catch its first error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hypermetric import api
from hypermetric.errors import HmError
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.semantics.declare import Declarer
from hypermetric.semantics.loader import Loader
from hypermetric.semantics.model import Pipeline
from hypermetric.semantics.namespace import Scope


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def load(root: Path, main: str, files: dict[str, str] | None = None, **kw) -> Pipeline:
    """Write `main.hm` (and `files`) under `root` and load it with `root` as the invocation directory."""
    write(root, {"main.hm": main, **(files or {})})
    return api.load(str(root / "main.hm"), cwd=str(root), **kw)


def declared(main: str, *, cwd: str, includes: list[str] | tuple[str, ...] = ()) -> Scope:
    """The root scope the analyzer declares for `main`: the pipeline it returns keeps no scopes, so tests of
    what is declared where read them here."""
    return Declarer(Loader(includes=includes, cwd=cwd).load(main)).declare_program()


def failure(root: Path, main: str, files: dict[str, str] | None = None, **kw) -> HmError:
    with pytest.raises(HmError) as info:
        load(root, main, files, **kw)
    return info.value


def error(root: Path, main: str, files: dict[str, str] | None = None, **kw) -> tuple[int, int, str]:
    """(line, column, message) of the first diagnostic of the error that loading raises."""
    return where(failure(root, main, files, **kw))


def where(exc: HmError) -> tuple[int, int, str]:
    diag = exc.diagnostic
    assert diag.span is not None, diag.message
    line, col = diag.span.file.position(diag.span.start)
    return line, col, diag.message


def plan(root: Path, main: str, *targets: str, files: dict[str, str] | None = None, **kw) -> JobGraph:
    return api.plan(load(root, main, files, **kw), list(targets))


def targets(graph: JobGraph) -> list[Job]:
    return [graph.jobs[i] for i in graph.targets]


def var(job: Job, name: str) -> str:
    return dict(job.variables)[name]


def link(job: Job, name: str):
    return next(i for i in job.inputs if i.name == name)
