"""The analyzer: loaded files -> declared scopes -> every value, task and package resolved -> `Pipeline`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from hypermetric.errors import ResolutionError
from hypermetric.model.case import MAX_FILE_NAME_LENGTH
from hypermetric.semantics.axes import collect_axes
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.declare import Declarer
from hypermetric.semantics.entities import Task, ValueDef
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.loader import LoadedProgram
from hypermetric.semantics.namespace import OBJECT, PLAN, TASK, VALUE, Scope
from hypermetric.semantics.nodes import Const, walk
from hypermetric.semantics.pipeline import Pipeline, PlanInfo, TaskInfo
from hypermetric.semantics.resolver import Resolver
from hypermetric.semantics.tasks import TaskResolver
from hypermetric.semantics.values import LOCAL, InputFile, Pure

DEFAULT_ROOT = "out"


def analyze(program: LoadedProgram, *, defines: Mapping[str, str] | None = None, cwd: str | None = None) -> Pipeline:
    """Check a loaded program. `defines` (`-D path=text`, D19) replace file definitions of those values."""
    cwd = os.path.abspath(cwd or os.getcwd())
    inline = InlineCommands(cwd)
    registry = collect_axes(program, inline)
    declarer = Declarer(program, defines or {})
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
    local_root = os.path.normpath(os.path.join(cwd, _setting(root.get(OBJECT, LOCAL), resolver, "root", DEFAULT_ROOT)))
    return Pipeline(
        path=program.main, cwd=cwd, root=local_root, axes=registry.ordered(), tasks=infos, plans=plans,
        max_file_name_length=_max_length(root, resolver),
        fs_roots=_fs_roots(root, resolver, tasks.values(), local_root), definitions=tasks, scope=root,
    )


def _info(task: Task) -> TaskInfo:
    resolved = task.resolved
    assert resolved is not None
    return TaskInfo(task.name, resolved.axes, resolved.upstream, task.is_package, task.ephemeral, task.span)


def _setting(scope: Scope | None, resolver: Resolver, name: str, default: str) -> str:
    """A plain-string value of a file-system object (`local.root`, `s3.root`) at the default case."""
    vdef: ValueDef | None = scope.get(VALUE, name) if scope is not None else None
    if vdef is None:
        return default
    value = resolver.value(vdef).at({})
    if not isinstance(value, Pure):
        raise ResolutionError(f"`{vdef.name}` must be a plain string", vdef.span)
    return value.text


def _max_length(root: Scope, resolver: Resolver) -> int:
    local = root.get(OBJECT, LOCAL)
    text = _setting(local, resolver, "max_file_name_length", str(MAX_FILE_NAME_LENGTH))
    try:
        return int(text)
    except ValueError:
        vdef = local.get(VALUE, "max_file_name_length") if local is not None else None
        raise ResolutionError("`local.max_file_name_length` must be a number", vdef.span if vdef else None) from None


def _fs_roots(root: Scope, resolver: Resolver, tasks: Iterable[Task], local_root: str) -> dict[str, str]:
    """Output roots of the file systems named by inputs, outputs and input files (`root` is required)."""
    roots = {LOCAL: local_root}
    for task in tasks:
        resolved = task.resolved
        assert resolved is not None
        for binding in resolved.bindings + resolved.outputs:
            names = {binding.fs} | {n.value.fs for n in walk(binding.node)
                                    if isinstance(n, Const) and isinstance(n.value, InputFile)}
            for name in names - roots.keys():
                obj = root.find(OBJECT, name)
                if obj is None or obj[0].get(VALUE, "root") is None:
                    raise ResolutionError(f"file system `{name}` has no `root`", binding.span)
                roots[name] = _setting(obj[0], resolver, "root", "")
    return roots
