"""Global axes: every `{Axis: …}` literal in the program, checked to list the same keys everywhere.

HyperMake intersects differing key lists across files without a word, dropping cases; an axis written with
other keys or another order anywhere is an error here, so every file agrees on what a case is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hypermetric.diagnostic import Label
from hypermetric.errors import AxisError
from hypermetric.model.axis import Axis
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.loader import LoadedProgram
from hypermetric.source import Span
from hypermetric.syntax import ast


class AxisRegistry:
    """Axes by name, in order of first declaration, with the span of that first declaration."""

    def __init__(self) -> None:
        self._axes: dict[str, Axis] = {}
        self._spans: dict[str, Span | None] = {}
        self.defaults: dict[str, str] = {}
        self._overridden: set[str] = set()  # axes a `-D` override declares
        self._unplaced: set[str] = set()    # ... that the file has not mentioned yet

    def pin(self, name: str, keys: tuple[str, ...], span: Span | None) -> Axis:
        """Declare an axis from a `-D` override, before the file: its keys win over those of the file's
        dicts on that axis, which need only hold an entry for each key (checked when they are resolved)."""
        axis = self._declare(name, keys, span)
        self._overridden.add(name)
        self._unplaced.add(name)
        return axis

    def overridden(self, name: str) -> bool:
        return name in self._overridden

    def declare(self, name: str, keys: tuple[str, ...], span: Span | None) -> Axis:
        if name not in self._overridden:
            return self._declare(name, keys, span)
        if name in self._unplaced:  # listed where the file first mentions it, as if declared there
            self._unplaced.discard(name)
            self._axes[name] = self._axes.pop(name)
        return self._axes[name]

    def _declare(self, name: str, keys: tuple[str, ...], span: Span | None) -> Axis:
        axis = Axis(name, keys)
        first = self._axes.get(name)
        if first is None:
            self._axes[name] = axis
            self._spans[name] = span
            self.defaults[name] = axis.default
            return axis
        if not first.aligned_with(axis):
            first_span = self._spans[name]
            labels = [Label(first_span, f"first declared here as {first.render()}")] if first_span else []
            raise AxisError(
                f"axis `{name}` is declared as {axis.render()} here but as {first.render()} elsewhere", span,
                labels=labels, help="every dict on an axis must list the same keys in the same order")
        return first

    def get(self, name: str) -> Axis | None:
        return self._axes.get(name)

    def __getitem__(self, name: str) -> Axis:
        return self._axes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._axes

    def ordered(self) -> tuple[Axis, ...]:
        return tuple(self._axes.values())

    def names(self) -> list[str]:
        return list(self._axes)


def dict_keys(lit: ast.DictLit, inline: InlineCommands) -> tuple[str, ...]:
    """The keys of a dict literal in written order; a key written twice is an error (which of its values
    would the case take?)."""
    if lit.command is not None:
        return inline.keys(lit)
    first: dict[str, ast.DictEntry] = {}
    for entry in lit.entries:
        seen = first.setdefault(entry.key, entry)
        if seen is not entry:
            labels = [Label(seen.span, "first listed here")] if seen.span is not None else []
            raise AxisError(f"key `{entry.key}` is listed twice on axis `{lit.axis}`", entry.span,
                            labels=labels, help="list each key of an axis once")
    return tuple(first)


def collect_axes(program: LoadedProgram, inline: InlineCommands,
                 overrides: Iterable[ast.Expr] = ()) -> AxisRegistry:
    """Declare the axes of every loaded file: the main file in order, each import expanded in place; the
    dicts of `-D` override expressions first, so that their keys win."""
    registry = AxisRegistry()
    for expr in overrides:
        for lit in _dicts_in_expr(expr):
            registry.pin(lit.axis, dict_keys(lit, inline), lit.span)
    seen: set[str] = set()

    def visit_file(path: str) -> None:
        seen.add(path)
        for stmt in program.modules[path].statements:
            if isinstance(stmt, (ast.ImportFile, ast.ImportModule)):
                target = program.target(path, stmt)
                if target not in seen:
                    visit_file(target)
                continue
            for lit in _dicts_in_statement(stmt):
                registry.declare(lit.axis, dict_keys(lit, inline), lit.span)

    visit_file(program.main)
    return registry


def _dicts_in_statement(stmt: ast.Statement) -> Iterator[ast.DictLit]:
    for expr in _exprs_in_statement(stmt):
        yield from _dicts_in_expr(expr)


def _dicts_in_expr(expr: ast.Expr | None) -> Iterator[ast.DictLit]:
    if isinstance(expr, ast.DictLit):
        yield expr
        for entry in expr.entries:
            yield from _dicts_in_expr(entry.value)


def _params(params: tuple[ast.Param, ...] | None) -> Iterator[ast.Expr | None]:
    return (p.value for p in params or ())


def _exprs_in_statement(stmt: ast.Statement) -> Iterator[ast.Expr | None]:
    if isinstance(stmt, ast.ValDef):
        yield stmt.value
    elif isinstance(stmt, ast.FuncDef):
        yield from _params(stmt.params)
        yield from _params(stmt.outputs)
    elif isinstance(stmt, (ast.TaskDef, ast.PackageDef)):
        for deco in stmt.decorators:
            yield from _params(deco.args)
        yield from _params(stmt.params)
        if isinstance(stmt, ast.TaskDef):
            yield from _params(stmt.outputs)
        elif stmt.output is not None:
            yield stmt.output.value
        if isinstance(stmt.body, ast.Call):
            yield from _params(stmt.body.args)
    elif isinstance(stmt, (ast.ClassDef, ast.ObjectDef)):
        if isinstance(stmt, ast.ClassDef):
            yield from _params(stmt.params)
        if isinstance(stmt.body, ast.Call):
            yield from _params(stmt.body.args)
        else:
            for member in stmt.body:
                yield from _exprs_in_statement(member)
