"""Name resolution: expressions to lazy tensors, references looked up from the innermost scope outwards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from hypermetric.errors import AxisError, ResolutionError
from hypermetric.semantics.axes import AxisRegistry, dict_keys
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.entities import TaskDecl, ValueDef
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.model.tensors import Branch, Const, Node, Output
from hypermetric.semantics.model.values import LOCAL, InputFile, Pure
from hypermetric.semantics.namespace import OBJECT, TASK, VALUE, Scope
from hypermetric.suggest import help_did_you_mean, join_names
from hypermetric.syntax import ast

if TYPE_CHECKING:
    from hypermetric.model.axis import Axis
    from hypermetric.semantics.model.tasks import TaskTensor
    from hypermetric.source import Span

Locals = Mapping[str, Node]


class TaskSource(Protocol):
    """What name resolution needs of tasks. The task resolver provides it, and resolves its tasks' expressions
    through a `Resolver` in turn: the two recurse into each other through this interface, not an import."""

    def resolve(self, task: TaskDecl, via: Span | None = None) -> TaskTensor:
        """The task's tensor (resolved once; a task reached again while it is being resolved is a cycle)."""
        ...

    def output_names(self, task: TaskDecl) -> tuple[str, ...]:
        """The task's output names, known without resolving it."""
        ...

    def service_start(self, obj: Scope) -> TaskDecl | None:
        """The `start` task of a service object, if `obj` is one."""
        ...


class Resolver:
    """Turns expressions into nodes. `$p` is, first match wins: a local (call arguments only), a value at
    `p`, output `last` of task `p[:-1]`, the package `p`, the service object `p` — tried in the current
    scope, then each enclosing one. Values are resolved once; cycles are errors."""

    def __init__(self, axes: AxisRegistry, inline: InlineCommands, guard: Guard) -> None:
        self.axes = axes
        self.inline = inline
        self.guard = guard
        self.tasks: TaskSource  # set by the analyzer (the task resolver, which uses this resolver too)
        # Keyed by the definition itself, which the cache keeps alive: an `id()` key would be reused once a
        # short-lived definition (a decorator's arguments) is freed, and hand its value to another task.
        self._values: dict[ValueDef, Node] = {}

    def value(self, vdef: ValueDef, via: Span | None = None) -> Node:
        node = self._values.get(vdef)
        if node is None:
            with self.guard.visit(("value", vdef), vdef.name, via):
                node = self.expr(vdef.expr, vdef.scope)
            self._values[vdef] = node
        return node

    def expr(self, expr: ast.Expr, scope: Scope, locals: Locals | None = None) -> Node:
        if isinstance(expr, ast.StrLit):
            if expr.fs is None:
                return Const(Pure(expr.value), expr.span)
            self.check_fs(expr.fs, scope, expr.span)
            return Const(InputFile(expr.value, expr.fs), expr.span)
        if isinstance(expr, ast.DictLit):
            return self._dict(expr, scope, locals)
        return self.ref(expr, scope, locals)

    def check_fs(self, fs: str, scope: Scope, span: Span | None) -> None:
        """`@fs` names `local` or an object (a file system)."""
        if fs != LOCAL and scope.find(OBJECT, fs) is None:
            raise ResolutionError(f"undefined file system `{fs}`", span,
                                  help=help_did_you_mean(fs, scope.visible(OBJECT) | {LOCAL}))

    def _dict(self, lit: ast.DictLit, scope: Scope, locals: Locals | None) -> Node:
        axis = self.axes[lit.axis]
        branches: dict[str, Node] = {}
        if lit.command is not None:
            for key in dict_keys(lit, self.inline):
                branches[key] = Const(Pure(key), lit.span)
        for entry in lit.entries:
            value = entry.value
            branches[entry.key] = (Const(Pure(entry.key), entry.span) if value is None
                                   else self.expr(value, scope, locals))
        missing = [key for key in axis.keys if key not in branches]
        if missing:  # only where a `-D` override gave the axis keys that the file's dicts lack
            raise AxisError(f"this dict on axis `{axis.name}` has no key `{missing[0]}`", lit.span,
                            help=f"`-D` gives axis `{axis.name}` the keys {axis.render()}: give this dict "
                                 f"those keys too, or leave `{missing[0]}` out of the override")
        return Branch(axis.name, axis.default, branches, lit.span)

    def ref(self, ref: ast.Ref, scope: Scope, locals: Locals | None = None) -> Node:
        if ref.output is not None:
            task = self.find_task(ref.path, scope, ref.span)
            self._check_output(task, ref.output, ref.span)
            return self.output(task, ref.output, ref.indices or (), ref.span)
        if locals is not None and ref.path in locals:
            return locals[ref.path]
        *prefix, last = ref.path.split(".")
        for current in scope.chain():
            node = self._lookup(current, prefix, last, ref.span)
            if node is not None:
                return node
        raise self._undefined(ref, scope, locals)

    def _lookup(self, scope: Scope, prefix: list[str], last: str, span: Span | None) -> Node | None:
        holder = scope.descend(prefix)
        if holder is not None and last in holder.tables[VALUE]:
            return self.value(holder.tables[VALUE][last], span)
        if prefix:
            owner = scope.descend(prefix[:-1])
            task = owner.get(TASK, prefix[-1]) if owner is not None else None
            if task is not None and last in self.tasks.output_names(task):
                return self.output(task, last, (), span)
        if holder is None:
            return None
        task = holder.get(TASK, last)
        if task is not None and task.is_package:
            return self.output(task, self.tasks.output_names(task)[0], (), span)
        obj = holder.get(OBJECT, last)
        if obj is not None:
            start = self.tasks.service_start(obj)
            if start is not None:
                return self.output(start, self.tasks.output_names(start)[0], (), span, service=obj.path)
        return None

    def _undefined(self, ref: ast.Ref, scope: Scope, locals: Locals | None) -> ResolutionError:
        *prefix, last = ref.path.split(".")
        found = scope.find(TASK, ref.path)
        if found is not None:
            task = found[0]
            outs = self.tasks.output_names(task)
            refs = join_names(f"${task.name}.{o}" for o in outs)
            hint = f"refer to one of its outputs: {refs}" if outs else None
            return ResolutionError(f"`{ref.path}` is a task, not a value", ref.span, help=hint)
        if prefix:
            owner = scope.find(TASK, ".".join(prefix))
            if owner is not None:
                outs = self.tasks.output_names(owner[0])
                return ResolutionError(f"task `{owner[0].name}` has no output `{last}`", ref.span,
                                       help=help_did_you_mean(last, outs))
        candidates = scope.visible(VALUE) | set(locals or ())
        for name in scope.visible(TASK):
            task_found = scope.find(TASK, name)
            if task_found is not None:
                candidates.update(f"{name}.{o}" for o in self.tasks.output_names(task_found[0]))
        return ResolutionError(f"undefined name `{ref.path}`", ref.span,
                               help=help_did_you_mean(ref.path, candidates))

    def find_task(self, path: str, scope: Scope, span: Span | None) -> TaskDecl:
        found = scope.find(TASK, path)
        if found is None:
            raise ResolutionError(f"undefined task `{path}`", span,
                                  help=help_did_you_mean(path, scope.visible(TASK)))
        return found[0]

    def _check_output(self, task: TaskDecl, output: str, span: Span | None) -> None:
        outs = self.tasks.output_names(task)
        if output not in outs:
            raise ResolutionError(f"task `{task.name}` has no output `{output}`", span,
                                  help=help_did_you_mean(output, outs))

    def output(self, task: TaskDecl, output: str, indices: tuple[ast.AxisIndex, ...], span: Span | None,
               service: str | None = None) -> Output:
        """A reference to a task output, with indices checked against the task's axes."""
        resolved = self.tasks.resolve(task, span)
        fixed: dict[str, str] = {}
        reduced: list[tuple[str, tuple[str, ...]]] = []
        for index in indices:
            axis = self.axes.get(index.axis)
            if axis is None:
                raise AxisError(f"undefined axis `{index.axis}`", index.span,
                                help=help_did_you_mean(index.axis, self.axes.names()))
            if index.axis not in resolved.axes:
                _check_keys(axis, index)
                if index.keys is not None and len(index.keys) == 1:
                    raise AxisError(f"task `{task.name}` does not vary over axis `{index.axis}`", index.span,
                                    help=_axes_help(task.name, resolved.axes))
                # HyperMake gives a folder with the one `default` entry when the producer does not vary
                # over a reduced axis, so pipelines that reduce uniformly over several tasks keep working.
                reduced.append((axis.name, (axis.default,)))
                continue
            if index.axis in fixed or any(a == index.axis for a, _ in reduced):
                raise AxisError(f"axis `{index.axis}` is indexed more than once", index.span)
            if index.keys is None:
                reduced.append((axis.name, axis.keys))
                continue
            _check_keys(axis, index)
            if len(index.keys) == 1:
                fixed[axis.name] = index.keys[0]
            else:
                reduced.append((axis.name, axis.ordered(index.keys)))
        return Output(task.name, output, resolved.axes, resolved.defaults, fixed, tuple(reduced), service, span)


def _check_keys(axis: Axis, index: ast.AxisIndex) -> None:
    for key in index.keys or ():
        if key not in axis:
            raise AxisError(f"axis `{axis.name}` has no key `{key}`", index.span,
                            help=help_did_you_mean(key, axis.keys))


def _axes_help(name: str, axes: tuple[str, ...]) -> str:
    if not axes:
        return f"`{name}` has a single job (no axes)"
    return f"`{name}` varies over {join_names(axes, 'and')}"
