"""Task tensors: a task or package after resolution, with its variables, outputs, decorators and axes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypermetric.record import Record, setfield
from hypermetric.semantics.model.values import LOCAL

if TYPE_CHECKING:
    from hypermetric.semantics.model.objects import Runner
    from hypermetric.semantics.model.tensors import Node
    from hypermetric.source import Span

# Binding kinds, from the lowest precedence to the highest: a later kind overrides an earlier one of the
# same name.
DEFAULT, CLASS_PARAM, ARG = "default", "class", "arg"
INPUT, OUTPUT, DECORATOR = "input", "output", "decorator"


class Binding(Record):
    """One script variable of a task: its name, tensor, kind (see the constants above) and file system."""

    __slots__ = ("name", "node", "kind", "fs", "span")
    name: str
    node: Node
    kind: str
    fs: str
    span: Span | None

    def __init__(self, name: str, node: Node, kind: str, fs: str = LOCAL, span: Span | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "node", node)
        setfield(self, "kind", kind)
        setfield(self, "fs", fs)
        setfield(self, "span", span)


class DecoratorSpec(Record):
    """A resolved decorator: its `run` body, the parameter receiving the wrapped script, its variables."""

    __slots__ = ("name", "script", "param", "variables", "span", "cls")
    name: str
    script: str
    param: str
    variables: tuple[Binding, ...]
    span: Span | None
    cls: str | None                      # the class instantiated (`resources.resources`), if any

    def __init__(self, name: str, script: str, param: str, variables: tuple[Binding, ...],
                 span: Span | None = None, cls: str | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "script", script)
        setfield(self, "param", param)
        setfield(self, "variables", variables)
        setfield(self, "span", span)
        setfield(self, "cls", cls)


# Compared and hashed by identity: its nodes hold dicts, and two tasks are one task only as one record.
class TaskTensor(Record, compare=False):
    """A task or package over its axes: variables by precedence (each name once), outputs, decorators."""

    __slots__ = ("name", "script", "bindings", "outputs", "decorators", "axes", "defaults", "upstream",
                 "services", "runner", "fs", "is_package", "ephemeral", "span")
    name: str                            # dotted name, e.g. `o.t`
    script: str
    bindings: tuple[Binding, ...]        # the winning binding of every variable name, low to high precedence
    outputs: tuple[Binding, ...]         # the outputs, in declaration order
    decorators: tuple[DecoratorSpec, ...]  # innermost (nearest the task) first
    axes: tuple[str, ...]                # sorted axis names
    defaults: tuple[str, ...]            # the default key of each axis
    upstream: tuple[str, ...]            # names of the tasks and packages this one depends on, sorted
    services: tuple[str, ...]            # paths of the service objects its jobs use
    runner: Runner | None                # the `@@runner(...)`, resolved
    fs: str                              # `task t@fs`: the file system whose `execute` runs its jobs
    is_package: bool
    ephemeral: bool
    span: Span | None

    def __init__(self, name: str, script: str, bindings: tuple[Binding, ...], outputs: tuple[Binding, ...],
                 decorators: tuple[DecoratorSpec, ...] = (), axes: tuple[str, ...] = (),
                 defaults: tuple[str, ...] = (), upstream: tuple[str, ...] = (), services: tuple[str, ...] = (),
                 runner: Runner | None = None, fs: str = LOCAL, is_package: bool = False,
                 ephemeral: bool = False, span: Span | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "script", script)
        setfield(self, "bindings", bindings)
        setfield(self, "outputs", outputs)
        setfield(self, "decorators", decorators)
        setfield(self, "axes", axes)
        setfield(self, "defaults", defaults)
        setfield(self, "upstream", upstream)
        setfield(self, "services", services)
        setfield(self, "runner", runner)
        setfield(self, "fs", fs)
        setfield(self, "is_package", is_package)
        setfield(self, "ephemeral", ephemeral)
        setfield(self, "span", span)

    def __repr__(self) -> str:
        return f"TaskTensor({self.name})"
