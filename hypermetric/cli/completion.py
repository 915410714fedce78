"""Shell completion of targets: task and plan names, axis names and keys, from the pipeline file.

The shell asks for completions by running the command with `_HYPERMETRIC_COMPLETE` set; typer (click) calls
`complete_args` with the words typed so far. The pipeline file is the one the command line names (a word ending
in `.hm`, or `-F`), else the only `*.hm` in the current directory, as for the command itself. Completion must
never print an error into the user's prompt, so a file that does not load completes to nothing.

Inside brackets the words complete piece by piece: `t[` offers `t[Axis:` for each axis of `t`, and
`t[Axis: ` (or `t[Axis:`) offers that axis's keys and `*`.
"""

from __future__ import annotations

import os


def complete_args(ctx, args: list[str], incomplete: str) -> list[str]:
    pipeline = _load(_pipeline_file(ctx, args))
    if pipeline is None:
        return [p for p in _hm_files() if p.startswith(incomplete)]
    if "[" in incomplete:
        return [c for c in _inside(pipeline, incomplete) if c.startswith(incomplete)]
    names = [*pipeline.task_names(), *sorted(pipeline.plans)]
    return [n for n in names if n.startswith(incomplete)]


def _inside(pipeline, text: str) -> list[str]:
    """Completions of a partly written `task[Axis: key, ...` target."""
    task, _, inner = text.partition("[")
    info = pipeline.tasks.get(task)
    if info is None:
        return []
    head, sep, last = inner.rpartition(",")
    prefix = f"{task}[{head}{sep}{' ' if sep else ''}"
    axis, colon, rest = last.strip().partition(":")
    if not colon:
        return [f"{prefix}{name}:" for name in info.axes]
    found = pipeline.axis(axis.strip())
    gap = " " if not rest or rest.startswith(" ") else ""  # follow the user's spacing after the colon
    return [f"{prefix}{axis.strip()}:{gap}{key}" for key in (*(found.keys if found else ()), "*")]


def _pipeline_file(ctx, args: list[str]) -> str | None:
    chosen = (getattr(ctx, "params", None) or {}).get("file")
    if chosen:
        return chosen
    for word in args:
        if word.endswith(".hm") and os.path.isfile(word):
            return word
    found = _hm_files()
    return found[0] if len(found) == 1 else None


def _hm_files() -> list[str]:
    try:
        return sorted(p for p in os.listdir(".") if p.endswith(".hm") and os.path.isfile(p))
    except OSError:
        return []


def _load(path: str | None):
    if path is None:
        return None
    from hypermetric import api
    from hypermetric.errors import HmError

    try:
        return api.load(path, cwd=os.getcwd())
    except (HmError, OSError, RecursionError, ValueError):
        return None
