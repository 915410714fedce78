"""The one rich `Console` per invocation, with semantic styles, honouring `--color` and `NO_COLOR`."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

THEME = {
    "axis": "bold cyan", "key": "green", "task": "bold", "path": "dim",
    "job.ok": "green", "job.complete": "dim green", "job.failed": "bold red", "job.pending": "yellow",
    "job.skipped": "magenta", "job.running": "cyan", "job.queued": "dim", "job.waiting": "magenta",
    "job.outdated": "yellow", "header": "bold",
}


def use_color(color: str, stream=None) -> bool:
    stream = stream or sys.stdout
    if color == "always":
        return True
    if color == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def make_console(color: str = "auto", stderr: bool = False) -> Console:
    """A rich Console; plain text (no colour, no markup effects) when not on a terminal."""
    from rich.console import Console
    from rich.theme import Theme

    stream = sys.stderr if stderr else sys.stdout
    on = use_color(color, stream)
    return Console(file=stream, theme=Theme(THEME), force_terminal=on if color == "always" else None,
                   no_color=not on, highlight=False, soft_wrap=True, emoji=False,
                   color_system="auto" if on else None)


class LazyConsole:
    """`make_console(color, stderr)`, made when something other than its `file` is first asked for: rich
    takes longer to import than a run whose jobs are all done takes to plan, and writing plain lines to the
    file needs none of it."""

    def __init__(self, color: str = "auto", stderr: bool = False) -> None:
        self.file = sys.stderr if stderr else sys.stdout
        self._color, self._stderr = color, stderr
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        if self._console is None:
            self._console = make_console(self._color, self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never a rich attribute; also keeps copying and pickling from recursing
            raise AttributeError(name)
        return getattr(self.rich, name)


def rich_console(console: Console | LazyConsole) -> Console:
    """The rich `Console` itself, for what must be handed one (a live display)."""
    return console.rich if isinstance(console, LazyConsole) else console
