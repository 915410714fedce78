"""Declared definitions (values, functions, classes, tasks, plans) and the resolved form of a task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.syntax import ast

if TYPE_CHECKING:
    from hypermetric.semantics.filesystems import Runner
    from hypermetric.semantics.namespace import Scope
    from hypermetric.semantics.nodes import Node
    from hypermetric.source import Span

# Binding kinds, from the lowest precedence to the highest: a later kind overrides an earlier one of the
# same name.
DEFAULT, CLASS_PARAM, ARG = "default", "class", "arg"
INPUT, OUTPUT, DECORATOR = "input", "output", "decorator"


@dataclass(eq=False)
class ValueDef:
    """`name = expr`, resolved in `scope` (class arguments keep the caller's scope)."""

    name: str
    expr: ast.Expr
    scope: Scope
    span: Span | None = None


@dataclass(eq=False)
class FunctionDecl:
    """`def f(params) -> outputs: script`, with the scope it was defined in (for its defaults)."""

    name: str
    node: ast.FuncDef
    scope: Scope
    span: Span | None = None


@dataclass(eq=False)
class ClassDecl:
    """`class c(params): members` or `class c(params) = other(args)`."""

    name: str
    node: ast.ClassDef
    scope: Scope
    span: Span | None = None


@dataclass(eq=False)
class PlanDecl:
    """`plan P = { targets }`."""

    name: str
    node: ast.PlanDef
    scope: Scope
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """One script variable of a task: its name, tensor, kind (see the constants above) and file system."""

    name: str
    node: Node
    kind: str
    fs: str = "local"
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


@dataclass(frozen=True, slots=True)
class ResolvedTask:
    """A task after resolution: variables by precedence (each name once), outputs, decorators, axes."""

    script: str
    bindings: tuple[Binding, ...]        # the winning binding of every variable name, low to high precedence
    outputs: tuple[Binding, ...]         # the outputs, in declaration order
    decorators: tuple[DecoratorSpec, ...]  # innermost (nearest the task) first
    axes: tuple[str, ...]                # sorted axis names
    defaults: tuple[str, ...]            # the default key of each axis
    upstream: tuple[str, ...]            # names of the tasks and packages this one depends on, sorted
    services: tuple[str, ...] = ()       # paths of the service objects its jobs use
    runner: Runner | None = None         # the `@@runner(...)`, resolved
    fs: str = "local"                    # `task t@fs`: the file system whose `execute` runs its jobs


@dataclass(eq=False)
class Task:
    """A task or package definition, named by its dotted path; `resolved` is filled by the analyzer."""

    name: str
    node: ast.TaskDef | ast.PackageDef
    scope: Scope
    span: Span | None = None
    resolved: ResolvedTask | None = None

    @property
    def is_package(self) -> bool:
        return isinstance(self.node, ast.PackageDef)

    @property
    def ephemeral(self) -> bool:
        return isinstance(self.node, ast.TaskDef) and self.node.ephemeral

    @property
    def axes(self) -> tuple[str, ...]:
        assert self.resolved is not None
        return self.resolved.axes

    def __repr__(self) -> str:
        return f"Task({self.name})"
