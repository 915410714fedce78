"""`Pipeline`: the checked program — axes, task tensors and their summaries, plans, objects, output root.

It is what semantic analysis hands to the planner: plain, frozen records that refer to each other by name,
with no scope and no syntax tree inside (spans are kept for error messages), so a pipeline can be built by
hand as well as loaded from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypermetric.model.axis import Axis
from hypermetric.model.case import MAX_FILE_NAME_LENGTH
from hypermetric.record import Record, setfield
from hypermetric.semantics.model.objects import FileSystem, Service
from hypermetric.semantics.model.tasks import TaskTensor
from hypermetric.source import Span


class TaskInfo(Record):
    """What `list` and `describe` show of a task or package tensor."""

    __slots__ = ("name", "axes", "upstream", "is_package", "ephemeral", "span")
    name: str                      # dotted name, e.g. `o.t`
    axes: tuple[str, ...]          # sorted axis names
    upstream: tuple[str, ...]      # names of the tasks and packages it depends on, sorted
    is_package: bool
    ephemeral: bool
    span: Span | None

    def __init__(self, name: str, axes: tuple[str, ...], upstream: tuple[str, ...], is_package: bool = False,
                 ephemeral: bool = False, span: Span | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "axes", axes)
        setfield(self, "upstream", upstream)
        setfield(self, "is_package", is_package)
        setfield(self, "ephemeral", ephemeral)
        setfield(self, "span", span)

    @classmethod
    def of(cls, tensor: TaskTensor) -> TaskInfo:
        return cls(tensor.name, tensor.axes, tensor.upstream, tensor.is_package, tensor.ephemeral, tensor.span)


class TargetIndex(Record):
    """One clause of a target's index: `Axis: k`, `Axis: k1 k2`, or `Axis: *` (`keys` is None)."""

    __slots__ = ("axis", "keys", "span")
    axis: str
    keys: tuple[str, ...] | None
    span: Span | None

    def __init__(self, axis: str, keys: tuple[str, ...] | None, span: Span | None = None) -> None:
        setfield(self, "axis", axis)
        setfield(self, "keys", keys)
        setfield(self, "span", span)


class Target(Record):
    """A target as a plan lists it: `path` or `path[A: k1 k2, B: *]`."""

    __slots__ = ("path", "indices", "span")
    path: str
    indices: tuple[TargetIndex, ...]
    span: Span | None

    def __init__(self, path: str, indices: tuple[TargetIndex, ...] = (), span: Span | None = None) -> None:
        setfield(self, "path", path)
        setfield(self, "indices", indices)
        setfield(self, "span", span)


class PlanInfo(Record):
    """`plan P = { … }`: its targets, and the dotted path of the object it was defined in (names in its
    targets are looked up from there outwards)."""

    __slots__ = ("name", "targets", "owner", "span")
    name: str
    targets: tuple[Target, ...]
    owner: str
    span: Span | None

    def __init__(self, name: str, targets: tuple[Target, ...], owner: str = "", span: Span | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "targets", targets)
        setfield(self, "owner", owner)
        setfield(self, "span", span)


# A dataclass still: `batch.frontend.BatchPipeline` extends it with fields of its own.
@dataclass(frozen=True, eq=False)
class Pipeline:
    """A loaded, checked pipeline. `axes` are in order of first declaration with keys in declared order;
    `tasks` maps every task and package (dotted name) to its summary; `tensors` maps the name of every task a
    job can be planned for to its tensor; `root` is the absolute output root; `services` are the service
    objects by path."""

    path: str
    cwd: str
    root: str
    axes: tuple[Axis, ...]
    tasks: Mapping[str, TaskInfo]
    plans: Mapping[str, PlanInfo]
    max_file_name_length: int = MAX_FILE_NAME_LENGTH
    file_systems: Mapping[str, FileSystem] = field(default_factory=dict)
    tensors: Mapping[str, TaskTensor] = field(default_factory=dict, repr=False)
    services: Mapping[str, Service] = field(default_factory=dict, repr=False)
    _axes_by_name: dict[str, Axis] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_axes_by_name", {a.name: a for a in self.axes})

    @property
    def fs_roots(self) -> dict[str, str]:
        """The output root of `local` and of every other file system the tasks name."""
        return {"local": self.root, **{name: fs.root for name, fs in self.file_systems.items()}}

    def axis(self, name: str) -> Axis | None:
        return self._axes_by_name.get(name)

    @property
    def defaults(self) -> dict[str, str]:
        """Axis name -> default key."""
        return {a.name: a.default for a in self.axes}

    def tensor(self, name: str) -> TaskTensor | None:
        """The tensor of a task or package, by dotted name."""
        return self.tensors.get(name)

    def task_names(self) -> list[str]:
        return sorted(self.tasks)

    def upstream(self, name: str) -> tuple[str, ...]:
        """Names of the tasks and packages `name` depends on (the arcs of `list`'s DAG)."""
        return self.tasks[name].upstream

    def axes_in_order(self) -> list[tuple[str, tuple[str, ...]]]:
        """(axis, keys) in order of first declaration, keys in declared order (default first)."""
        return [(a.name, a.keys) for a in self.axes]
