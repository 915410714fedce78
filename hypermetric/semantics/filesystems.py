"""File-system objects (§3.12, §5.9): the roots, settings, shell functions and arguments execution needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hypermetric.errors import ResolutionError
from hypermetric.semantics.entities import Task, ValueDef
from hypermetric.semantics.namespace import FUNCTION, OBJECT, TASK, VALUE, Scope
from hypermetric.semantics.nodes import Const, walk
from hypermetric.semantics.resolver import Resolver
from hypermetric.semantics.values import LOCAL, InputFile, Pure
from hypermetric.source import Span

SETTINGS = ("separator", "path_separator", "max_file_name_length", "refresh_interval")


@dataclass(frozen=True, slots=True)
class FileSystem:
    """A custom file system named by `@name`. `functions` maps an operation (`read`, `mkdir`, `exists`,
    `link`, `touch`, `remove`, `upload`, `download`, `execute`, …) to its parameter names and script;
    `variables` are the object's class arguments (the scripts' environment); `service` is true when the
    object has ephemeral `start`/`stop` tasks."""

    name: str
    root: str
    functions: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    variables: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    service: bool = False


def setting(scope: Scope | None, resolver: Resolver, name: str, default: str) -> str:
    """A plain-string value of an object (`local.root`, `s3.root`) at the default case."""
    vdef: ValueDef | None = scope.get(VALUE, name) if scope is not None else None
    if vdef is None:
        return default
    value = resolver.value(vdef).at({})
    if not isinstance(value, Pure):
        raise ResolutionError(f"`{vdef.name}` must be a plain string", vdef.span)
    return value.text


def collect_file_systems(root: Scope, resolver: Resolver, tasks: Iterable[Task]) -> dict[str, FileSystem]:
    """Every file system other than `local` named by a task's inputs, outputs or input files."""
    found: dict[str, FileSystem] = {}
    for task in tasks:
        resolved = task.resolved
        assert resolved is not None
        for binding in resolved.bindings + resolved.outputs:
            names = {binding.fs} | {n.value.fs for n in walk(binding.node)
                                    if isinstance(n, Const) and isinstance(n.value, InputFile)}
            for name in sorted(names - found.keys() - {LOCAL}):
                found[name] = _file_system(root, resolver, name, binding.span)
    return found


def _file_system(root: Scope, resolver: Resolver, name: str, span: Span | None) -> FileSystem:
    obj = root.find(OBJECT, name)
    if obj is None or obj[0].get(VALUE, "root") is None:
        raise ResolutionError(f"file system `{name}` has no `root`", span)
    scope: Scope = obj[0]
    functions = {fname: (tuple(p.name for p in decl.node.params), decl.node.script.text)
                 for fname, decl in scope.tables[FUNCTION].items()}
    variables = tuple((p, setting(scope, resolver, p, "")) for p in scope.params)
    settings = tuple((s, setting(scope, resolver, s, "")) for s in SETTINGS
                     if scope.get(VALUE, s) is not None)
    start, stop = scope.get(TASK, "start"), scope.get(TASK, "stop")
    service = start is not None and stop is not None and start.ephemeral and stop.ephemeral
    return FileSystem(name, setting(scope, resolver, "root", ""), functions, variables, settings, service)
