"""File-system and runner objects read from their scopes: roots, settings, shell functions, arguments."""

from __future__ import annotations

from collections.abc import Iterable

from hypermetric.diagnostic import Label
from hypermetric.errors import ResolutionError
from hypermetric.record import replace
from hypermetric.semantics.entities import FunctionDecl, ValueDef
from hypermetric.semantics.model.objects import Defaults, FileSystem, Functions, Runner
from hypermetric.semantics.model.tasks import TaskTensor
from hypermetric.semantics.model.tensors import Const, walk
from hypermetric.semantics.model.values import LOCAL, InputFile, Pure, Value
from hypermetric.semantics.namespace import FUNCTION, OBJECT, TASK, VALUE, Scope
from hypermetric.semantics.resolver import Resolver
from hypermetric.source import Span

SETTINGS = ("separator", "path_separator", "max_file_name_length", "refresh_interval")


def setting(scope: Scope | None, resolver: Resolver, name: str, default: str) -> str:
    """A plain-string value of an object (`local.root`, `s3.root`) at the default case."""
    vdef: ValueDef | None = scope.get(VALUE, name) if scope is not None else None
    if vdef is None:
        return default
    value = resolver.value(vdef).at({})
    if not isinstance(value, Pure):
        raise ResolutionError(f"`{vdef.name}` must be a plain string", vdef.span)
    return value.text


def collect_file_systems(root: Scope, resolver: Resolver, tasks: Iterable[TaskTensor]) -> dict[str, FileSystem]:
    """Every file system other than `local` named by a task's inputs, outputs or input files."""
    found: dict[str, FileSystem] = {}
    for task in tasks:
        if task.fs not in found and task.fs != LOCAL:
            found[task.fs] = _file_system(root, resolver, task.fs, task.span)
        for binding in task.bindings + task.outputs:
            names = {binding.fs} | {n.value.fs for n in walk(binding.node)
                                    if isinstance(n, Const) and isinstance(n.value, InputFile)}
            for name in sorted(names - found.keys() - {LOCAL}):
                found[name] = _file_system(root, resolver, name, binding.span)
    return {name: _with_copies(fs, root, resolver, found) for name, fs in found.items()}


def _with_copies(fs: FileSystem, root: Scope, resolver: Resolver, names: Iterable[str]) -> FileSystem:
    """`fs` with the root-level `copy_from_<G>_to_<fs>` functions from each other file system `G`."""
    copies: dict[str, tuple[tuple[str, ...], str]] = {}
    defaults = dict(fs.defaults)
    for source in names:
        decl = root.get(FUNCTION, f"copy_from_{source}_to_{fs.name}")
        if decl is not None and source != fs.name:
            copies[source] = (tuple(p.name for p in decl.node.params), decl.node.script.text)
            defaults[f"copy_from_{source}"] = function_defaults(resolver, decl)
    return replace(fs, copies=copies, defaults=defaults) if copies else fs


def _file_system(root: Scope, resolver: Resolver, name: str, span: Span | None) -> FileSystem:
    obj = root.find(OBJECT, name)
    if obj is None or obj[0].get(VALUE, "root") is None:
        raise ResolutionError(f"file system `{name}` has no `root`", span)
    scope: Scope = obj[0]
    functions, defaults = object_functions(scope, resolver)
    variables = tuple((p, setting(scope, resolver, p, "")) for p in scope.params)
    settings = tuple((s, setting(scope, resolver, s, "")) for s in SETTINGS
                     if scope.get(VALUE, s) is not None)
    start, stop = scope.get(TASK, "start"), scope.get(TASK, "stop")
    service = start is not None and stop is not None and start.ephemeral and stop.ephemeral
    return FileSystem(name, setting(scope, resolver, "root", ""), functions, variables, settings, service,
                      defaults, plain_values(scope, resolver))


def object_functions(scope: Scope, resolver: Resolver) -> tuple[Functions, Defaults]:
    """The object's functions (parameters, body) and their parameter defaults at the default case."""
    functions = {fname: (tuple(p.name for p in decl.node.params), decl.node.script.text)
                 for fname, decl in scope.tables[FUNCTION].items()}
    defaults = {fname: function_defaults(resolver, decl) for fname, decl in scope.tables[FUNCTION].items()}
    return functions, {k: v for k, v in defaults.items() if v}


def function_defaults(resolver: Resolver, decl: FunctionDecl) -> tuple[tuple[str, Value], ...]:
    """`(param, value)` for each parameter of a function with a default, at the default case."""
    node, scope = decl.node, decl.scope
    return tuple((p.name, resolver.expr(p.value, scope).at({})) for p in node.params if p.value is not None)


def plain_values(scope: Scope, resolver: Resolver) -> tuple[tuple[str, str], ...]:
    """The object's values that are plain strings at the default case, class parameters excluded."""
    out = []
    for name, vdef in scope.tables[VALUE].items():
        if name not in scope.params:
            value = resolver.value(vdef).at({})
            if isinstance(value, Pure):
                out.append((name, value.text))
    return tuple(out)


_RUNNER_HELP = ("a runner defines `submit(script_file)`, `poll(job_id)` and `cancel(job_id)`; `submit` may "
                "take the job directory as a second parameter: `submit(script_file, wd)`")
# How many parameters without a default each runner function may have (it is called with that many).
_RUNNER_ARITY = {"submit": (1, 2), "poll": (1, 1), "cancel": (1, 1), "kill": (1, 1)}


def runner_object(resolver: Resolver, scope: Scope, name: str, span: Span | None) -> Runner:
    """The runner that object (or class instance) `scope` implements; it needs `submit` and `poll`."""
    functions, defaults = object_functions(scope, resolver)
    for required in ("submit", "poll"):
        if required not in functions:
            raise ResolutionError(f"runner `{name}` has no function `{required}`", span, help=_RUNNER_HELP)
    for op, (low, high) in _RUNNER_ARITY.items():
        decl = scope.get(FUNCTION, op)
        if decl is not None:
            _check_arity(decl, f"{name}.{op}", low, high, span)
    variables = tuple((p, setting(scope, resolver, p, "")) for p in scope.params)
    text = dict(variables).get("refresh_interval") or setting(scope, resolver, "refresh_interval", "5")
    try:
        interval = float(text)
    except ValueError:
        raise ResolutionError(f"`refresh_interval` of runner `{name}` must be a number of seconds, not "
                              f"`{text}`", span) from None
    return Runner(name, functions, variables, defaults, plain_values(scope, resolver), max(interval, 0.01))


def _check_arity(decl: FunctionDecl, what: str, low: int, high: int, use: Span | None) -> None:
    """A runner function is called with `low`..`high` arguments: its parameters without a default must
    number that many."""
    count = sum(1 for p in decl.node.params if p.value is None)
    if low <= count <= high:
        return
    wanted = str(low) if low == high else f"{low} or {high}"
    labels = [Label(use, "used as a runner here")] if use is not None else []
    raise ResolutionError(f"runner function `{what}` must take {wanted} parameter{'s' if high > 1 else ''}, "
                          f"not {count}", decl.span or use, labels=labels, help=_RUNNER_HELP)
