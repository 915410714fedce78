"""Declared definitions (values, functions, classes, tasks, plans), each with the scope it was declared in.

These are the analyzer's working records; what resolution makes of a task is a `TaskTensor` of the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.syntax import ast

if TYPE_CHECKING:
    from hypermetric.semantics.namespace import Scope
    from hypermetric.source import Span


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


@dataclass(eq=False)
class TaskDecl:
    """A task or package definition, named by its dotted path (the task resolver makes its `TaskTensor`)."""

    name: str
    node: ast.TaskDef | ast.PackageDef
    scope: Scope
    span: Span | None = None

    @property
    def is_package(self) -> bool:
        return isinstance(self.node, ast.PackageDef)

    @property
    def ephemeral(self) -> bool:
        return isinstance(self.node, ast.TaskDef) and self.node.ephemeral

    def __repr__(self) -> str:
        return f"TaskDecl({self.name})"
