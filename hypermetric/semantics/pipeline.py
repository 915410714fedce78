"""`Pipeline`: the checked program — axes, tasks and packages with their axes and upstreams, plans, root."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypermetric.model.axis import Axis
from hypermetric.model.case import MAX_FILE_NAME_LENGTH
from hypermetric.semantics.entities import Task
from hypermetric.semantics.filesystems import FileSystem
from hypermetric.semantics.namespace import Scope
from hypermetric.source import Span
from hypermetric.syntax import ast


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What `list` and `describe` show of a task or package tensor."""

    name: str                      # dotted name, e.g. `o.t`
    axes: tuple[str, ...]          # sorted axis names
    upstream: tuple[str, ...]      # names of the tasks and packages it depends on, sorted
    is_package: bool = False
    ephemeral: bool = False
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """`plan P = { … }`: its targets as written, and the object it was defined in (for relative names)."""

    name: str
    targets: tuple[ast.TaskRef, ...]
    scope: str = ""
    span: Span | None = None


@dataclass(eq=False)
class Pipeline:
    """A loaded, checked pipeline. `axes` are in order of first declaration with keys in declared order;
    `tasks` maps every task and package (dotted name) to its summary; `root` is the absolute output root."""

    path: str
    cwd: str
    root: str
    axes: tuple[Axis, ...]
    tasks: dict[str, TaskInfo]
    plans: dict[str, PlanInfo]
    max_file_name_length: int = MAX_FILE_NAME_LENGTH
    file_systems: dict[str, FileSystem] = field(default_factory=dict)
    definitions: dict[str, Task] = field(default_factory=dict, repr=False)
    scope: Scope | None = field(default=None, repr=False)
    _axes_by_name: dict[str, Axis] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._axes_by_name = {a.name: a for a in self.axes}

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

    def task(self, name: str) -> Task | None:
        """The resolved definition of a task or package, by dotted name."""
        return self.definitions.get(name)

    def task_names(self) -> list[str]:
        return sorted(self.tasks)

    def upstream(self, name: str) -> tuple[str, ...]:
        """Names of the tasks and packages `name` depends on (the arcs of `list`'s DAG)."""
        return self.tasks[name].upstream

    def axes_in_order(self) -> list[tuple[str, tuple[str, ...]]]:
        """(axis, keys) in order of first declaration, keys in declared order (default first)."""
        return [(a.name, a.keys) for a in self.axes]
