"""The values a tensor holds at one case: `Pure` strings, input files, task outputs and reductions.

A task output names its task by its dotted name, not by the task itself: the model is a set of plain records
that refer to each other by name, so it can be built by hand and read without the analyzer that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypermetric.model.case import Pairs

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class Pure:
    """A plain string, passed verbatim."""

    text: str


@dataclass(frozen=True, slots=True)
class InputFile:
    """`"path"@fs`: a file that exists outside the pipeline (relative paths are relative to the fs root)."""

    path: str
    fs: str = LOCAL


@dataclass(frozen=True, slots=True)
class TaskOutput:
    """Output `output` of the task named `task` at the canonical case `pairs`; `service`: the service object
    it carries."""

    task: str
    output: str
    pairs: Pairs
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Multiple:
    """A reduction: one entry per key combination of the reduced `axes`, each with its (axis, key) pairs and
    the task output it gathers."""

    axes: tuple[str, ...]
    entries: tuple[tuple[Pairs, TaskOutput], ...]


Value = Pure | InputFile | TaskOutput | Multiple
