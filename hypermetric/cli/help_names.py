"""Command classes whose help option lists its names in the order given (`-h, -H, --help`).

Typer's copy of click gathers the help option's names in a set, so `--help` printed `-h, -H` or `-H, -h` as the
process's string hashes fell. Imported only where typer builds the parser (`--help`, an unusual command line).
"""

from __future__ import annotations

import functools
from typing import Any


def _names(command: Any, ctx: Any) -> list[str]:
    taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    return [name for name in dict.fromkeys(ctx.help_option_names) if name not in taken]


@functools.cache
def _ordered(base: type) -> type:
    """`base`, typer's group or command class, with the help option's names in the order given."""
    return type(base.__name__, (base,), {"get_help_option_names": _names, "__module__": __name__})


def group_class() -> type:
    from typer.core import TyperGroup

    return _ordered(TyperGroup)


def command_class() -> type:
    from typer.core import TyperCommand

    return _ordered(TyperCommand)
