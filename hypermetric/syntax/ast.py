"""The abstract syntax tree of `.hm` files: frozen dataclasses, each with a source span (ignored by `==`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from hypermetric.source import Span
from hypermetric.syntax.refs import AxisIndex as AxisIndex  # a target's parts live apart: see `refs`
from hypermetric.syntax.refs import TaskRef as TaskRef


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]  # set by the parser

# ---------------------------------------------------------------------------------------------- expressions

@dataclass(frozen=True, slots=True)
class StrLit:
    """A string literal: unquoted (`abc`, `0.01`) or quoted (`"a b"`), optionally bound to a file system."""

    value: str
    quoted: bool = False
    fs: str | None = None  # `"path"@fs`
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DictEntry:
    """`key` (value is the key itself, `value is None`) or `key=expr`."""

    key: str
    value: Expr | None = None
    quoted_key: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DictLit:
    """`{Axis: k1 k2=v}` or an inline command `{Axis: \\`cmd\\`}` (then `entries` is empty)."""

    axis: str
    entries: tuple[DictEntry, ...] = ()
    command: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ref:
    """`$path`, or `$path[A: k].output`. `$t.out` is the plain path `t.out` (resolved later)."""

    path: str
    indices: tuple[AxisIndex, ...] | None = None  # only together with `output`
    output: str | None = None
    span: Span = _span()


Expr = Union[StrLit, DictLit, Ref]


# ------------------------------------------------------------------------------------------ parameter lists

@dataclass(frozen=True, slots=True)
class Param:
    """An entry of a parameter list: `name[@fs] = expr`, `name = $` (shorthand), or a bare `name`."""

    name: str
    fs: str | None = None
    value: Expr | None = None  # None for a bare name
    shorthand: bool = False  # `name=$`; then `value` is `Ref(name)`
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """`f(a=1, b=$x)`: instantiation of a function or class."""

    func: str
    args: tuple[Param, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Decorator:
    """`@path` / `@path(args)`, or a runner `@@path(args)`."""

    path: str
    args: tuple[Param, ...] | None = None
    runner: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Script:
    """A verbatim script block, dedented by its first line's indentation (no trailing newline)."""

    text: str
    span: Span = _span()


# ------------------------------------------------------------------------------------------- definitions

@dataclass(frozen=True, slots=True)
class ValDef:
    """`path = expr` (the path may be dotted, e.g. `local.root`)."""

    path: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class FuncDef:
    """`def f(params) [-> outputs]: script`."""

    name: str
    params: tuple[Param, ...]
    outputs: tuple[Param, ...] | None
    script: Script
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TaskDef:
    """`[decorators] [ephemeral] task name[@fs] [(inputs)] [-> outputs] (: script | = call)`."""

    name: str
    params: tuple[Param, ...] = ()
    outputs: tuple[Param, ...] | None = None
    body: Script | Call = None  # type: ignore[assignment]  # every parsed definition has one
    decorators: tuple[Decorator, ...] = ()
    ephemeral: bool = False
    fs: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PackageDef:
    """`[decorators] package name [(inputs)] [-> out[@fs]] (: script | = call)`."""

    name: str
    params: tuple[Param, ...] = ()
    output: Param | None = None
    body: Script | Call = None  # type: ignore[assignment]  # every parsed definition has one
    decorators: tuple[Decorator, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PlanDef:
    """`plan P = { t1 t2[A: *] }`."""

    name: str
    targets: tuple[TaskRef, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ClassDef:
    """`class c(params): members` or `class c(params) = other(args)`."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Statement, ...] | Call
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ObjectDef:
    """`object o: members` or `object o = cls(args)`."""

    name: str
    body: tuple[Statement, ...] | Call
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ImportFile:
    """`import "dir/f.hm" [as m]`."""

    path: str
    alias: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ImportModule:
    """`import a.b [as m]`."""

    module: str
    alias: str | None = None
    span: Span = _span()


Statement = Union[ValDef, FuncDef, TaskDef, PackageDef, PlanDef, ClassDef, ObjectDef, ImportFile, ImportModule]


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed file."""

    statements: tuple[Statement, ...]
    span: Span = _span()
