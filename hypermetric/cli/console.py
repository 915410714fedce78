"""The one rich `Console` per invocation, with semantic styles, honouring `--color` and `NO_COLOR`."""

from __future__ import annotations

import os
import sys

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


def make_console(color: str = "auto", stderr: bool = False):
    """A rich Console; plain text (no colour, no markup effects) when not on a terminal."""
    from rich.console import Console
    from rich.theme import Theme

    stream = sys.stderr if stderr else sys.stdout
    on = use_color(color, stream)
    return Console(file=stream, theme=Theme(THEME), force_terminal=on if color == "always" else None,
                   no_color=not on, highlight=False, soft_wrap=True, emoji=False,
                   color_system="auto" if on else None)
