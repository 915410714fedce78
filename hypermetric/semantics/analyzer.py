"""The analyzer: loaded files -> declared scopes -> every value, task and package resolved -> `Pipeline`.

The scopes, declarations and resolvers are its working state and stay here; what it returns is the model
(`hypermetric.semantics.model`), which holds none of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from hypermetric.errors import ResolutionError
from hypermetric.model.case import MAX_FILE_NAME_LENGTH
from hypermetric.semantics.axes import collect_axes
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.declare import Declarer
from hypermetric.semantics.defines import parse_defines
from hypermetric.semantics.filesystems import collect_file_systems, setting
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.loader import LoadedProgram
from hypermetric.semantics.model.objects import FileSystem, Service
from hypermetric.semantics.model.pipeline import Pipeline, PlanInfo, Target, TargetIndex, TaskInfo
from hypermetric.semantics.model.tasks import TaskTensor
from hypermetric.semantics.model.values import LOCAL
from hypermetric.semantics.namespace import OBJECT, PLAN, TASK, VALUE, Scope
from hypermetric.semantics.resolver import Resolver
from hypermetric.semantics.tasks import TaskResolver
from hypermetric.syntax import ast

DEFAULT_ROOT = "out"


def analyze(program: LoadedProgram, *, defines: Mapping[str, str] | None = None,
            cwd: str | None = None) -> Pipeline:
    """Check a loaded program. `defines` (`-D path=value`) replace the definitions of those values, each
    value a HyperMake expression (see `semantics.defines`); a path the pipeline does not define is an
    error."""
    cwd = os.path.abspath(cwd or os.getcwd())
    inline = InlineCommands(cwd)
    overrides = parse_defines(defines or {})
    registry = collect_axes(program, inline, (d.expr for d in overrides.values()))
    declarer = Declarer(program, overrides)
    root = declarer.declare_program()
    guard = Guard()
    resolver = Resolver(registry, inline, guard)
    resolver.tasks = tasks = TaskResolver(resolver, declarer, registry, guard)
    declared: dict[str, TaskTensor] = {}
    plans: dict[str, PlanInfo] = {}
    for scope in root.walk():
        for vdef in scope.tables[VALUE].values():
            resolver.value(vdef)
        for task in scope.tables[TASK].values():
            declared[task.name] = tasks.resolve(task)
        for plan in scope.tables[PLAN].values():
            targets = tuple(target_of(ref) for ref in plan.node.targets)
            plans[plan.name] = PlanInfo(plan.name, targets, scope.path, plan.span)
    infos = {name: TaskInfo.of(tensor) for name, tensor in sorted(declared.items())}
    local_root = os.path.normpath(
        os.path.join(cwd, setting(root.get(OBJECT, LOCAL), resolver, "root", DEFAULT_ROOT)))
    max_length = _max_length(root, resolver)
    file_systems = collect_file_systems(root, resolver, declared.values())
    # Every task resolved, by name: those declared in objects, and any a reference reached elsewhere (inside a
    # decorator's class instance), which jobs can depend on too.
    tensors = {**{t.name: t for t in tasks.tensors.values()}, **declared}
    return Pipeline(
        path=program.main, cwd=cwd, root=local_root, axes=registry.ordered(), tasks=infos, plans=plans,
        max_file_name_length=max_length, file_systems=file_systems, tensors=tensors,
        services=_services(root, tensors.values(), file_systems),
    )


def target_of(ref: ast.TaskRef) -> Target:
    """The model's form of a target as written in a plan (or on the command line)."""
    return Target(ref.path, tuple(TargetIndex(i.axis, i.keys, i.span) for i in ref.indices), ref.span)


def _services(root: Scope, tensors: Iterable[TaskTensor], file_systems: Mapping[str, FileSystem]
              ) -> dict[str, Service]:
    """The service objects the jobs use (through a reference, an input's file system, or where they run)."""
    paths = {path for tensor in tensors for path in tensor.services}
    paths.update(name for name, fs in file_systems.items() if fs.service)
    found: dict[str, Service] = {}
    for path in sorted(paths):
        scope = root.descend(path.split("."))
        start = scope.get(TASK, "start") if scope is not None else None
        stop = scope.get(TASK, "stop") if scope is not None else None
        if start is not None and stop is not None:
            found[path] = Service(path, start.name, stop.name)
    return found


def _max_length(root: Scope, resolver: Resolver) -> int:
    local = root.get(OBJECT, LOCAL)
    text = setting(local, resolver, "max_file_name_length", str(MAX_FILE_NAME_LENGTH))
    try:
        return int(text)
    except ValueError:
        vdef = local.get(VALUE, "max_file_name_length") if local is not None else None
        span = vdef.span if vdef else None
        raise ResolutionError("`local.max_file_name_length` must be a number", span) from None
