"""The values a tensor holds at one case: `Pure` strings, input files, task outputs and reductions.

A task output names its task by its dotted name, not by the task itself: the model is a set of plain records
that refer to each other by name, so it can be built by hand and read without the analyzer that made it.
"""

from __future__ import annotations

from hypermetric.model.case import Pairs
from hypermetric.record import Record, setfield

LOCAL = "local"


class Pure(Record):
    """A plain string, passed verbatim."""

    __slots__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        setfield(self, "text", text)


class InputFile(Record):
    """`"path"@fs`: a file that exists outside the pipeline (relative paths are relative to the fs root)."""

    __slots__ = ("path", "fs")
    path: str
    fs: str

    def __init__(self, path: str, fs: str = LOCAL) -> None:
        setfield(self, "path", path)
        setfield(self, "fs", fs)


class TaskOutput(Record):
    """Output `output` of the task named `task` at the canonical case `pairs`; `service`: the service object
    it carries."""

    __slots__ = ("task", "output", "pairs", "service")
    task: str
    output: str
    pairs: Pairs
    service: str | None

    def __init__(self, task: str, output: str, pairs: Pairs, service: str | None = None) -> None:
        setfield(self, "task", task)
        setfield(self, "output", output)
        setfield(self, "pairs", pairs)
        setfield(self, "service", service)


class Multiple(Record):
    """A reduction: one entry per key combination of the reduced `axes`, each with its (axis, key) pairs and
    the task output it gathers."""

    __slots__ = ("axes", "entries")
    axes: tuple[str, ...]
    entries: tuple[tuple[Pairs, TaskOutput], ...]

    def __init__(self, axes: tuple[str, ...], entries: tuple[tuple[Pairs, TaskOutput], ...]) -> None:
        setfield(self, "axes", axes)
        setfield(self, "entries", entries)


Value = Pure | InputFile | TaskOutput | Multiple
