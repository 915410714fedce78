"""The analyzer: loaded files -> declared scopes -> every value, task and package resolved -> `Pipeline`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypermetric.errors import ResolutionError
from hypermetric.model.case import MAX_FILE_NAME_LENGTH
from hypermetric.semantics.axes import collect_axes
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.declare import Declarer
from hypermetric.semantics.defines import parse_defines
from hypermetric.semantics.entities import Task
from hypermetric.semantics.filesystems import collect_file_systems, setting
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.loader import LoadedProgram
from hypermetric.semantics.namespace import OBJECT, PLAN, TASK, VALUE, Scope
from hypermetric.semantics.pipeline import Pipeline, PlanInfo, TaskInfo
from hypermetric.semantics.resolver import Resolver
from hypermetric.semantics.tasks import TaskResolver
from hypermetric.semantics.values import LOCAL

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
    resolver.tasks = TaskResolver(resolver, declarer, registry, guard)
    tasks: dict[str, Task] = {}
    plans: dict[str, PlanInfo] = {}
    for scope in root.walk():
        for vdef in scope.tables[VALUE].values():
            resolver.value(vdef)
        for task in scope.tables[TASK].values():
            resolver.tasks.resolve(task)
            tasks[task.name] = task
        for plan in scope.tables[PLAN].values():
            plans[plan.name] = PlanInfo(plan.name, plan.node.targets, scope.path, plan.span)
    infos = {name: _info(task) for name, task in sorted(tasks.items())}
    local_root = os.path.normpath(
        os.path.join(cwd, setting(root.get(OBJECT, LOCAL), resolver, "root", DEFAULT_ROOT)))
    return Pipeline(
        path=program.main, cwd=cwd, root=local_root, axes=registry.ordered(), tasks=infos, plans=plans,
        max_file_name_length=_max_length(root, resolver),
        file_systems=collect_file_systems(root, resolver, tasks.values()), definitions=tasks, scope=root,
    )


def _info(task: Task) -> TaskInfo:
    resolved = task.resolved
    assert resolved is not None
    return TaskInfo(task.name, resolved.axes, resolved.upstream, task.is_package, task.ephemeral, task.span)


def _max_length(root: Scope, resolver: Resolver) -> int:
    local = root.get(OBJECT, LOCAL)
    text = setting(local, resolver, "max_file_name_length", str(MAX_FILE_NAME_LENGTH))
    try:
        return int(text)
    except ValueError:
        vdef = local.get(VALUE, "max_file_name_length") if local is not None else None
        span = vdef.span if vdef else None
        raise ResolutionError("`local.max_file_name_length` must be a number", span) from None
