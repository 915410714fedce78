"""Task and package resolution: inputs, outputs, function-call bodies, class parameters, precedence, axes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypermetric.diagnostic import Label
from hypermetric.errors import ResolutionError
from hypermetric.record import replace
from hypermetric.semantics.axes import AxisRegistry
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.declare import Declarer, check_args
from hypermetric.semantics.decorators import resolve_decorators
from hypermetric.semantics.entities import FunctionDecl, TaskDecl
from hypermetric.semantics.model.objects import Runner
from hypermetric.semantics.model.tasks import (
    ARG,
    CLASS_PARAM,
    DEFAULT,
    INPUT,
    OUTPUT,
    Binding,
    DecoratorSpec,
    TaskTensor,
)
from hypermetric.semantics.model.tensors import Const, Node, first_impure, outputs
from hypermetric.semantics.model.values import LOCAL, Pure
from hypermetric.semantics.namespace import FUNCTION, OBJECT, TASK, VALUE, Scope
from hypermetric.semantics.outputs import check_output_files, is_reserved
from hypermetric.semantics.resolver import Resolver
from hypermetric.suggest import help_did_you_mean
from hypermetric.syntax import ast

if TYPE_CHECKING:
    from hypermetric.source import Span


class TaskResolver:
    """Resolves each task once into its `TaskTensor` (cycles through task references are errors)."""

    def __init__(self, resolver: Resolver, declarer: Declarer, axes: AxisRegistry, guard: Guard) -> None:
        self.resolver = resolver
        self.declarer = declarer
        self.axes = axes
        self.guard = guard
        # Keyed by the declaration itself (an id could be reused), which the dicts keep alive.
        self._outputs: dict[TaskDecl, tuple[str, ...]] = {}
        self.tensors: dict[TaskDecl, TaskTensor] = {}
        self._by_name: dict[str, TaskTensor] = {}

    def resolve(self, task: TaskDecl, via: Span | None = None) -> TaskTensor:
        tensor = self.tensors.get(task)
        if tensor is None:
            with self.guard.visit(("task", task), task.name, via):
                tensor = self._resolve(task)
            self.tensors[task] = self._by_name[task.name] = tensor
        return tensor

    def output_names(self, task: TaskDecl) -> tuple[str, ...]:
        """Output names, known without resolving anything (a package `= f(…)`, or a task `= f(…)` without
        `->`, takes `f`'s outputs)."""
        names = self._outputs.get(task)
        if names is None:
            node = task.node
            call = isinstance(node.body, ast.Call)
            if isinstance(node, ast.TaskDef) and (node.outputs is not None or not call):
                names = tuple(p.name for p in node.outputs or ())
            elif isinstance(node, ast.PackageDef) and node.output is not None:
                names = (node.output.name,)
            elif isinstance(node.body, ast.Call):
                found = task.scope.find(FUNCTION, node.body.func)
                names = tuple(p.name for p in found[0].node.outputs or ()) if found else ()
            else:
                names = ()
            self._outputs[task] = names
        return names

    def service_start(self, obj: Scope) -> TaskDecl | None:
        """The `start` task of a service object (ephemeral `start` and `stop`), if `obj` is one."""
        start, stop = obj.get(TASK, "start"), obj.get(TASK, "stop")
        if start is None or stop is None or not (start.ephemeral and stop.ephemeral):
            return None
        return start if self.output_names(start) else None

    def _resolve(self, task: TaskDecl) -> TaskTensor:
        node, scope = task.node, task.scope
        task_fs = self._exec_fs(task)
        inputs = self._inputs(node.params, scope, task_fs)
        outs = self._task_outputs(task, task_fs)
        low: list[Binding] = self._class_params(scope)
        script = ""
        if isinstance(node.body, ast.Call):
            func = self._function(node.body, scope)
            script = func.node.script.text
            if isinstance(node, ast.TaskDef) and node.outputs is None:  # no `->`: the function's outputs
                outs = self._outputs_of(func.node.outputs or (), func.scope, task_fs)
            locals_ = {b.name: b.node for b in inputs + outs}
            defaults, args = self._call(node.body, func, scope, locals_, frozenset(locals_))
            defaults = self._class_params(func.scope) + defaults  # a member function of an instance
            if task.is_package:
                inputs = [Binding(b.name, b.node, INPUT, b.fs, b.span) for b in defaults + args] + inputs
                if not outs:
                    outs = self._function_output(task, func)
            else:
                low = defaults + low + args
        elif isinstance(node.body, ast.Script):
            script = node.body.text
        if task.is_package and len(outs) != 1:
            raise ResolutionError(f"package `{task.name}` must have exactly one output, not {len(outs)}",
                                  node.span)
        names = {b.name for b in inputs}
        for b in outs:
            if b.name in names:
                raise ResolutionError(f"`{b.name}` is both an input and an output of `{task.name}`", b.span)
        decorators, runner = resolve_decorators(self.resolver, self.declarer, task)
        if runner is not None and task_fs != LOCAL:
            raise ResolutionError(f"task `{task.name}` has both a runner and `@{task_fs}`", node.span,
                                  help="a job runs either through its runner or through the file system's "
                                       "`execute`: drop one of them")
        resolved = self._finish(task, script, low + inputs + outs, outs, decorators, runner)
        if task_fs == LOCAL:
            return resolved
        where = Binding(task.name, Const(Pure("")), INPUT, task_fs, node.span)  # the job itself uses the fs
        services = set(resolved.services) | self._fs_services(scope, [where])
        return replace(resolved, fs=task_fs, services=tuple(sorted(services)))

    def _exec_fs(self, task: TaskDecl) -> str:
        """`task t@fs`: the file system whose `execute` function runs the task's jobs (`local` if none)."""
        node = task.node
        fs = node.fs if isinstance(node, ast.TaskDef) else None
        if fs is None or fs == LOCAL:
            return LOCAL
        self.resolver.check_fs(fs, task.scope, node.span)
        obj = task.scope.find(OBJECT, fs)
        if obj is not None and obj[0].get(FUNCTION, "execute") is None:
            raise ResolutionError(f"file system `{fs}` cannot run task `{task.name}`: it has no function "
                                  "`execute`", node.span,
                                  help=f"define `def execute(command):` in `{fs}` (run the shell command "
                                       "`$command` there), or run the task locally")
        return fs

    def _finish(self, task: TaskDecl, script: str, ordered: list[Binding], outs: list[Binding],
                decorators: tuple[DecoratorSpec, ...], runner: Runner | None) -> TaskTensor:
        winners: dict[str, Binding] = {}
        for b in ordered + [v for d in decorators for v in d.variables]:
            winners.pop(b.name, None)
            winners[b.name] = b
        used = list(winners.values()) + [v for d in decorators for v in d.variables]
        # As in HyperMake, an axis that occurs only in an output's file name does not make the task vary:
        # the name takes that axis's default key.
        axes = sorted(set().union(*(b.node.shape for b in used if b.kind != OUTPUT)))
        refs = [o for b in used for o in outputs(b.node)]
        if task.is_package:
            for ref in refs:
                if not self._by_name[ref.task].is_package:
                    raise ResolutionError(
                        f"package `{task.name}` depends on task `{ref.task}`", ref.span,
                        help="packages may depend only on values and other packages")
        services = {o.service for o in refs if o.service} | self._fs_services(task.scope, ordered)
        return TaskTensor(
            name=task.name, script=script, bindings=tuple(winners.values()), outputs=tuple(outs),
            decorators=decorators, axes=tuple(axes), defaults=tuple(self.axes.defaults[a] for a in axes),
            upstream=tuple(sorted({o.task for o in refs})), services=tuple(sorted(services)), runner=runner,
            is_package=task.is_package, ephemeral=task.ephemeral, span=task.span)

    def _fs_services(self, scope: Scope, bindings: list[Binding]) -> set[str]:
        found: set[str] = set()
        for b in bindings:
            if b.fs != LOCAL:
                obj = scope.find(OBJECT, b.fs)
                if obj is not None and self.service_start(obj[0]) is not None:
                    found.add(obj[0].path)
        return found

    def _inputs(self, params: tuple[ast.Param, ...], scope: Scope, task_fs: str = LOCAL) -> list[Binding]:
        """The task's inputs; one without `@fs` is expected where the task runs."""
        out: list[Binding] = []
        for p in params:
            self._check_name(p, out, "input")
            if p.value is None:
                raise ResolutionError(f"input `{p.name}` has no value", p.span,
                                      help=f"write `{p.name}=$` to pass the value `{p.name}`")
            if p.fs is not None:
                self.resolver.check_fs(p.fs, scope, p.span)
            out.append(Binding(p.name, self.resolver.expr(p.value, scope), INPUT, p.fs or task_fs, p.span))
        return out

    def _check_name(self, p: ast.Param, seen: list[Binding], what: str) -> None:
        if is_reserved(p.name):
            raise ResolutionError(f"`{p.name}` is reserved for the job directory and cannot name an {what}",
                                  p.span)
        if any(b.name == p.name for b in seen):
            raise ResolutionError(f"{what} `{p.name}` is declared more than once", p.span)

    def _task_outputs(self, task: TaskDecl, task_fs: str = LOCAL) -> list[Binding]:
        node = task.node
        if isinstance(node, ast.TaskDef):
            params = node.outputs or ()
        else:
            params = (node.output,) if node.output else ()
        return self._outputs_of(params, task.scope, task_fs)

    def _outputs_of(self, params: tuple[ast.Param, ...], scope: Scope, task_fs: str = LOCAL) -> list[Binding]:
        """Output bindings; one without `@fs` is written where the task runs."""
        out: list[Binding] = []
        for p in params:
            self._check_name(p, out, "output")
            node: Node = (Const(Pure(p.name), p.span) if p.value is None
                          else self.resolver.expr(p.value, scope))
            bad = first_impure(node)
            if bad is not None:
                raise ResolutionError(f"output `{p.name}` must be a file name", bad.span or p.span,
                                      help="an output names a file relative to the job directory")
            check_output_files(p.name, node, p.span)
            if p.fs is not None:
                self.resolver.check_fs(p.fs, scope, p.span)
            out.append(Binding(p.name, node, OUTPUT, p.fs or task_fs, p.span))
        return out

    def _function(self, call: ast.Call, scope: Scope) -> FunctionDecl:
        found = scope.find(FUNCTION, call.func)
        if found is None:
            raise ResolutionError(f"undefined function `{call.func}`", call.span,
                                  help=help_did_you_mean(call.func, scope.visible(FUNCTION)))
        return found[0]

    def _function_output(self, task: TaskDecl, func: FunctionDecl) -> list[Binding]:
        params = func.node.outputs or ()
        if len(params) != 1:
            raise ResolutionError(f"package `{task.name}` must have exactly one output, but function "
                                  f"`{func.name}` has {len(params)}", task.node.span,
                                  labels=[Label(func.span, "function defined here")] if func.span else ())
        return self._outputs_of(params, func.scope)

    def _call(self, call: ast.Call, func: FunctionDecl, scope: Scope, locals_: dict[str, Node],
              provided: frozenset[str]) -> tuple[list[Binding], list[Binding]]:
        """Function defaults (resolved where the function is defined) and call arguments (with locals)."""
        args = check_args(call, func.node.params, f"function `{func.name}`", provided)
        defaults = [Binding(p.name, self.resolver.expr(p.value, func.scope), DEFAULT, LOCAL, p.span)
                    for p in func.node.params if p.name not in args and p.value is not None]
        given = [Binding(a.name, self.resolver.expr(a.value, scope, locals_), ARG, LOCAL, a.span)  # type: ignore[arg-type]  # check_args: each has a value
                 for a in args.values()]
        return defaults, given

    def _class_params(self, scope: Scope) -> list[Binding]:
        """Parameters of the enclosing class instances, nearest first winning."""
        out: dict[str, Binding] = {}
        for current in scope.chain():
            for name in current.params:
                if name not in out:
                    vdef = current.get(VALUE, name)
                    out[name] = Binding(name, self.resolver.value(vdef), CLASS_PARAM, LOCAL, vdef.span)
        return list(reversed(out.values()))
