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
def group_class() -> type:
    from typer.core import TyperGroup

    class Group(TyperGroup):
        def get_help_option_names(self, ctx: Any) -> list[str]:
            return _names(self, ctx)

    return Group


@functools.cache
def command_class() -> type:
    from typer.core import TyperCommand

    class Command(TyperCommand):
        def get_help_option_names(self, ctx: Any) -> list[str]:
            return _names(self, ctx)

    return Command
