"""Options and arguments declared as typer declares them (`Option("-j", "--jobs", min=1, help=...)`), but as
plain data, so that declaring a command imports no typer.

typer (with its click) takes longer to import than a run whose jobs are all done takes to do everything
else. A command module imports this module as `typer` and writes its options exactly as for typer; the
declarations become typer's own only when a typer application is built (`for_typer`), while the small parser
of `fast_argv` reads them directly, so both parsers work from one table. `Commands` collects commands as a
typer application would, without being one.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typer import Typer as Typer  # what a command module's `register(app: typer.Typer)` names

__all__ = ["EMPTY", "Argument", "Commands", "Declared", "Option", "Param", "for_typer"]

EMPTY: Any = object()  # a parameter without an annotation or a default (inspect's `Parameter.empty`)


class Declared:
    """`typer.Option(*names, **settings)` or `typer.Argument(**settings)`, not yet made."""

    __slots__ = ("kind", "names", "settings")

    def __init__(self, kind: str, names: tuple[str, ...], settings: dict[str, Any]) -> None:
        self.kind, self.names, self.settings = kind, names, settings

    def __repr__(self) -> str:
        return f"{self.kind}{self.names!r}"

    def made(self) -> Any:
        """The typer `OptionInfo` or `ArgumentInfo` this declares."""
        import typer

        if self.kind == "Option":
            return typer.Option(*self.names, **self.settings)
        return typer.Argument(*self.names, **self.settings)


class Param:
    """One keyword parameter of a registered command as both parsers read it: its name, its annotation (a
    type, or `Annotated[type, Option(...)]`) and its default."""

    __slots__ = ("name", "annotation", "default")

    def __init__(self, name: str, annotation: Any, default: Any) -> None:
        self.name, self.annotation, self.default = name, annotation, default


def Option(*names: str, **settings: Any) -> Any:  # noqa: N802 - typer's name, so a module can alias us
    return Declared("Option", names, settings)


def Argument(*names: str, **settings: Any) -> Any:  # noqa: N802
    return Declared("Argument", names, settings)


def declared(annotation: Any) -> tuple[Any, Declared | None]:
    """(type, declaration) of an `Annotated[type, Option(...)]` annotation; (annotation, None) otherwise."""
    if typing.get_origin(annotation) is typing.Annotated:
        kind, *extras = typing.get_args(annotation)
        found = [e for e in extras if isinstance(e, Declared)]
        if len(found) == 1 and len(extras) == 1:
            return kind, found[0]
    return annotation, None


def for_typer(annotation: Any) -> Any:
    """The annotation with its declaration made typer's own (any other annotation as it is)."""
    kind, decl = declared(annotation)
    return annotation if decl is None else typing.Annotated[kind, decl.made()]


class Commands:
    """What `app.command(name, help=...)(fn)` registered, by name: a typer application's interface for
    command modules, without typer."""

    def __init__(self) -> None:
        self.functions: dict[str, Callable[..., Any]] = {}

    def command(self, name: str, **settings: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.functions[name] = fn
            return fn
        return add
