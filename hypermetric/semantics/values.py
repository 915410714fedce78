"""The values a tensor holds at one case: `Pure` strings, input files, task outputs and reductions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypermetric.model.case import Pairs
    from hypermetric.semantics.entities import Task

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
    """Output `output` of `task` at the canonical case `pairs`; `service`: the service object it carries."""

    task: Task
    output: str
    pairs: Pairs
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Multiple:
    """A reduction: one entry per key combination of the reduced `axes`, each with its (axis, key) pairs."""

    axes: tuple[str, ...]
    entries: tuple[tuple[Pairs, Value], ...]


Value = Pure | InputFile | TaskOutput | Multiple
