"""A command line parsed without typer, when it uses only what this small parser fully understands.

Importing typer and building its parser take longer than a `run` whose jobs are all done takes to do the
rest. A command whose options are all declared with `params` (names, a flag, a value of a plain type, a
choice, a repeatable value, the positional words) is parsed here as click would parse it: options anywhere,
`--opt=value` and `--opt value`, `-j4` and `-j 4`, short flags run together (`-ky`), `--` ending the options,
a repeated option's last value winning. Anything else gives `None`, and the caller hands the command line to
typer: `--help`, shell completion, an unknown or malformed option, a value typer would refuse or that starts
with `-`, so that every message stays typer's. The parser reads the same declarations as typer, and a test
checks the two parsers against each other.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

from hypermetric.cli import params

# The settings a declaration may carry for this parser to take it: none of them changes how a value parses
# beyond `min`/`max`, which it checks.
_UNDERSTOOD = {"Option": {"help", "hidden", "min", "max", "show_default", "metavar"},
               "Argument": {"help", "show_default", "metavar", "autocompletion"}}


class Spec:
    """One parameter of a command: how its words become the value typer would pass."""

    __slots__ = ("name", "names", "flag", "multiple", "convert", "default")

    def __init__(self, name: str, names: tuple[str, ...], *, flag: bool = False, multiple: bool = False,
                 convert: Callable[[str], Any] = str, default: Any = None) -> None:
        self.name, self.names, self.flag, self.multiple = name, names, flag, multiple
        self.convert, self.default = convert, default


class Unsure(Exception):
    """The command line is not one this parser fully understands: typer parses it."""


def call(args: list[str], module: str) -> Callable[[], Any] | None:
    """The command `args[0]` (defined in `hypermetric.cli.commands.<module>`) bound to the options `args`
    give, or None when typer must parse them."""
    if not args or os.environ.get("_HYPERMETRIC_COMPLETE"):  # shell completion is typer's
        return None
    commands = params.Commands()
    importlib.import_module(f"hypermetric.cli.commands.{module}").register(commands)
    fn = commands.functions.get(args[0])
    specs = table(fn) if fn is not None else None
    if fn is None or specs is None:
        return None
    try:
        kw = parse(specs, args[1:])
    except Unsure:
        return None
    return lambda: fn(**kw)


def table(fn: Callable[..., Any]) -> list[Spec] | None:
    """The parameters of a registered command, or None when one is beyond this parser (or the command was
    registered without `options.command`, which declares them)."""
    declared = getattr(fn, "declared", None)
    if declared is None:
        return None
    specs = [spec_of(p) for p in declared]
    if any(s is None for s in specs):
        return None
    found = [s for s in specs if s is not None]
    names = [n for s in found for n in s.names]
    if len(names) != len(set(names)) or sum(not s.names for s in found) > 1:
        return None
    return found


def spec_of(param: params.Param) -> Spec | None:
    kind, decl = params.declared(param.annotation)
    if decl is None or set(decl.settings) - _UNDERSTOOD[decl.kind] or param.default is params.EMPTY:
        return None
    kind = _optional_inner(kind)
    if decl.kind == "Argument":
        listed = not decl.names and kind == list[str]
        return Spec(param.name, (), multiple=True, default=param.default) if listed else None
    if not decl.names or any(not _plain_name(n) for n in decl.names):
        return None
    if kind is bool:
        return Spec(param.name, decl.names, flag=True, default=param.default)
    if kind == list[str]:
        return Spec(param.name, decl.names, multiple=True, default=param.default)
    convert = _converter(kind, decl.settings)
    return None if convert is None else Spec(param.name, decl.names, convert=convert, default=param.default)


def _plain_name(name: str) -> bool:
    """`-x` or `--word`: no `/` (a flag's off switch) and nothing this parser would misread."""
    if name.startswith("--"):
        return len(name) > 2 and "=" not in name and "/" not in name and name[2] != "-"
    return len(name) == 2 and name[0] == "-" and name[1] not in "-=/"


def _optional_inner(kind: Any) -> Any:
    if get_origin(kind) is Union:
        inner = [a for a in get_args(kind) if a is not type(None)]
        if len(inner) == 1 and len(get_args(kind)) == 2:
            return inner[0]
    return kind


def _converter(kind: Any, settings: dict[str, Any]) -> Callable[[str], Any] | None:
    if kind is str and "min" not in settings and "max" not in settings:
        return str
    if kind in (int, float):
        low, high = settings.get("min"), settings.get("max")

        def number(text: str) -> Any:
            value = kind(text)  # click converts as int() and float() do; a ValueError makes us unsure
            if not ((low is None or value >= low) and (high is None or value <= high)):
                raise ValueError(text)  # out of range (or NaN): typer's message
            return value
        return number
    if get_origin(kind) is Literal and all(isinstance(c, str) for c in get_args(kind)):
        choices = get_args(kind)

        def choice(text: str) -> str:
            if text not in choices:
                raise ValueError(text)
            return text
        return choice
    return None


def parse(specs: list[Spec], words: list[str]) -> dict[str, Any]:
    """The keyword arguments typer would call the command with, or `Unsure`."""
    by_name = {n: s for s in specs for n in s.names}
    given: dict[str, Any] = {}
    positional: list[str] = []
    rest = list(reversed(words))
    while rest:
        word = rest.pop()
        if word == "--":
            positional.extend(reversed(rest))
            break
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            _take(_known(by_name, name), value if eq else None, bool(eq), rest, given)
        elif word.startswith("-") and word != "-":
            _short_cluster(by_name, word, rest, given)
        elif word == "-":
            raise Unsure(word)
        else:
            positional.append(word)
    kw = {s.name: s.default for s in specs}
    kw.update(given)
    words_spec = next((s for s in specs if not s.names), None)
    if positional:
        if words_spec is None:
            raise Unsure(positional[0])
        kw[words_spec.name] = positional
    return kw


def _known(by_name: dict[str, Spec], name: str) -> Spec:
    spec = by_name.get(name)
    if spec is None:
        raise Unsure(name)
    return spec


def _short_cluster(by_name: dict[str, Spec], word: str, rest: list[str], given: dict[str, Any]) -> None:
    """`-k`, `-ky`, `-j4`, `-kj4`, `-j 4`: flags, then at most one option that takes the rest as its value."""
    for i in range(1, len(word)):
        spec = _known(by_name, "-" + word[i])
        if spec.flag:
            given[spec.name] = True
            continue
        tail = word[i + 1:]
        _take(spec, tail or None, bool(tail), rest, given)
        return


def _take(spec: Spec, value: str | None, attached: bool, rest: list[str], given: dict[str, Any]) -> None:
    if spec.flag:
        if attached:
            raise Unsure(spec.name)  # `--verbose=x`: typer's error
        given[spec.name] = True
        return
    if value is None:
        if not rest or rest[-1].startswith("-"):
            raise Unsure(spec.name)  # no value, or one that looks like an option: typer decides
        value = rest.pop()
    try:
        converted = spec.convert(value)
    except ValueError:
        raise Unsure(spec.name) from None
    if spec.multiple:
        given.setdefault(spec.name, []).append(converted)
    else:
        given[spec.name] = converted

