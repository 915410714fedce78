"""Task tensors: a task or package after resolution, with its variables, outputs, decorators and axes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.semantics.model.values import LOCAL

if TYPE_CHECKING:
    from hypermetric.semantics.model.objects import Runner
    from hypermetric.semantics.model.tensors import Node
    from hypermetric.source import Span

# Binding kinds, from the lowest precedence to the highest: a later kind overrides an earlier one of the
# same name.
DEFAULT, CLASS_PARAM, ARG = "default", "class", "arg"
INPUT, OUTPUT, DECORATOR = "input", "output", "decorator"


@dataclass(frozen=True, slots=True)
class Binding:
    """One script variable of a task: its name, tensor, kind (see the constants above) and file system."""

    name: str
    node: Node
    kind: str
    fs: str = LOCAL
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class DecoratorSpec:
    """A resolved decorator: its `run` body, the parameter receiving the wrapped script, its variables."""

    name: str
    script: str
    param: str
    variables: tuple[Binding, ...]
    span: Span | None = None
    cls: str | None = None               # the class instantiated (`resources.resources`), if any


# Compared and hashed by identity: its nodes hold dicts, and two tasks are one task only as one record.
@dataclass(frozen=True, slots=True, eq=False)
class TaskTensor:
    """A task or package over its axes: variables by precedence (each name once), outputs, decorators."""

    name: str                            # dotted name, e.g. `o.t`
    script: str
    bindings: tuple[Binding, ...]        # the winning binding of every variable name, low to high precedence
    outputs: tuple[Binding, ...]         # the outputs, in declaration order
    decorators: tuple[DecoratorSpec, ...] = ()  # innermost (nearest the task) first
    axes: tuple[str, ...] = ()           # sorted axis names
    defaults: tuple[str, ...] = ()       # the default key of each axis
    upstream: tuple[str, ...] = ()       # names of the tasks and packages this one depends on, sorted
    services: tuple[str, ...] = ()       # paths of the service objects its jobs use
    runner: Runner | None = None         # the `@@runner(...)`, resolved
    fs: str = LOCAL                      # `task t@fs`: the file system whose `execute` runs its jobs
    is_package: bool = False
    ephemeral: bool = False
    span: Span | None = None

    def __repr__(self) -> str:
        return f"TaskTensor({self.name})"
