"""Nested scopes (the root, objects, modules, class instances): one table per kind of definition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypermetric.diagnostic import Label
from hypermetric.errors import ResolutionError
from hypermetric.source import Span

VALUE, TASK, FUNCTION, CLASS, OBJECT, PLAN = "value", "task", "function", "class", "object", "plan"
KINDS = (VALUE, TASK, FUNCTION, CLASS, OBJECT, PLAN)


class Scope:
    """A namespace. `parent` is the lexical parent (where unresolved names are looked up next);
    `path` is the dotted name under which its tasks are named (`o.t`). Values, tasks, functions,
    classes, objects and plans live in separate tables, so a value and a task may share a name."""

    __slots__ = ("implicit", "instance_of", "params", "parent", "path", "span", "tables")

    def __init__(self, path: str, parent: Scope | None, *, implicit: bool = False, span: Span | None = None,
                 instance_of: str | None = None) -> None:
        self.path = path
        self.parent = parent
        self.tables: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self.params: tuple[str, ...] = ()  # class parameters (values of this scope), for instances
        self.implicit = implicit
        self.span = span
        self.instance_of = instance_of

    def __repr__(self) -> str:
        return f"Scope({self.path or '<root>'})"

    def qualify(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def define(self, kind: str, name: str, item: Any, span: Span | None) -> None:
        """Add a definition; a second one of the same kind and name is an error pointing at both."""
        table = self.tables[kind]
        first = table.get(name)
        if first is not None:
            first_span = getattr(first, "span", None)
            labels = [Label(first_span, "first defined here")] if first_span is not None else []
            message = f"{kind} `{self.qualify(name)}` is defined more than once"
            raise ResolutionError(message, span, labels=labels)
        table[name] = item

    def get(self, kind: str, name: str) -> Any:
        return self.tables[kind].get(name)

    def child(self, name: str, span: Span | None = None, *, explicit: bool = False) -> Scope:
        """The object `name` of this scope, created (implicitly) when absent. An explicit `object` may
        take over an implicit one (created by `a.b = …` or `import a.b`), but not another explicit one."""
        existing: Scope | None = self.tables[OBJECT].get(name)
        if existing is None:
            scope = Scope(self.qualify(name), self, implicit=not explicit, span=span)
            self.tables[OBJECT][name] = scope
            return scope
        if explicit:
            if not existing.implicit:
                self.define(OBJECT, name, existing, span)  # raises the redefinition error
            existing.implicit = False
            existing.span = span
        return existing

    def descend(self, parts: list[str] | tuple[str, ...]) -> Scope | None:
        """The object reached by following `parts` from here, without creating anything."""
        scope: Scope | None = self
        for part in parts:
            scope = scope.tables[OBJECT].get(part) if scope is not None else None
        return scope

    def chain(self) -> Iterator[Scope]:
        """This scope, then its lexical ancestors up to the root."""
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def find(self, kind: str, path: str) -> tuple[Any, Scope] | None:
        """Lexical lookup of a dotted path of the given kind: (definition, scope holding it)."""
        *prefix, last = path.split(".")
        for scope in self.chain():
            holder = scope.descend(prefix)
            if holder is not None and last in holder.tables[kind]:
                return holder.tables[kind][last], holder
        return None

    def names(self, kind: str, depth: int = 3) -> Iterator[str]:
        """Dotted names of one kind reachable from this scope through nested objects."""
        yield from self.tables[kind]
        if depth > 0:
            for name, sub in self.tables[OBJECT].items():
                for inner in sub.names(kind, depth - 1):
                    yield f"{name}.{inner}"

    def visible(self, kind: str) -> set[str]:
        """Names of one kind visible from here (for 'did you mean')."""
        out: set[str] = set()
        for scope in self.chain():
            out.update(scope.names(kind))
        return out

    def walk(self) -> Iterator[Scope]:
        """This scope and every object below it (depth first, in definition order)."""
        yield self
        for sub in self.tables[OBJECT].values():
            yield from sub.walk()
