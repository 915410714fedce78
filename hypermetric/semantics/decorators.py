"""Decorators: `@o` or `@c(args)` must provide `def run(inner)` with exactly one parameter."""

from __future__ import annotations

from hypermetric.diagnostic import Label
from hypermetric.errors import ResolutionError
from hypermetric.semantics.declare import Declarer
from hypermetric.semantics.entities import TaskDecl
from hypermetric.semantics.filesystems import runner_object
from hypermetric.semantics.model.objects import Runner
from hypermetric.semantics.model.tasks import DECORATOR, Binding, DecoratorSpec
from hypermetric.semantics.model.values import LOCAL
from hypermetric.semantics.namespace import CLASS, FUNCTION, OBJECT, VALUE, Scope
from hypermetric.semantics.resolver import Resolver
from hypermetric.suggest import help_did_you_mean
from hypermetric.syntax import ast


def resolve_decorators(resolver: Resolver, declarer: Declarer,
                       task: TaskDecl) -> tuple[tuple[DecoratorSpec, ...], Runner | None]:
    """The task's decorators innermost first (the first written is outermost), and its `@@` runner, if any."""
    specs: list[DecoratorSpec] = []
    runner: Runner | None = None
    for deco in task.node.decorators:
        instance = _instance(declarer, deco, task)
        if deco.runner:
            runner = runner_object(resolver, instance, deco.path, deco.span)
        else:
            specs.append(_decorator(resolver, deco, instance))
    return tuple(reversed(specs)), runner


def _decorator(resolver: Resolver, deco: ast.Decorator, instance: Scope) -> DecoratorSpec:
    run = instance.get(FUNCTION, "run")
    if run is None:
        raise ResolutionError(f"decorator `{deco.path}` has no function `run`", deco.span,
                              help="a decorator is an object or class with `def run(script):`")
    count = len(run.node.params)
    if count != 1:
        labels = [Label(run.span, "`run` is defined here")] if run.span is not None else []
        raise ResolutionError(f"the `run` function of decorator `{deco.path}` must take exactly one "
                              f"parameter, not {count}", deco.span, labels=labels)
    variables = tuple(Binding(name, resolver.value(instance.get(VALUE, name), deco.span), DECORATOR, LOCAL,
                              deco.span)
                      for name in instance.params)
    return DecoratorSpec(deco.path, run.node.script.text, run.node.params[0].name, variables, deco.span,
                         instance.instance_of)


def _instance(declarer: Declarer, deco: ast.Decorator, task: TaskDecl) -> Scope:
    scope = task.scope
    obj = scope.find(OBJECT, deco.path)
    if obj is not None and deco.args is None:
        return obj[0]
    cls = scope.find(CLASS, deco.path)
    if cls is None:
        if obj is not None:
            raise ResolutionError(f"decorator `{deco.path}` is an object and takes no arguments", deco.span)
        raise ResolutionError(f"undefined decorator `{deco.path}`", deco.span,
                              help=help_did_you_mean(deco.path, scope.visible(OBJECT) | scope.visible(CLASS)))
    call = ast.Call(deco.path, deco.args or (), span=deco.span)
    return declarer.instantiate(call, scope, f"{task.name}@{deco.path}", deco.span)
