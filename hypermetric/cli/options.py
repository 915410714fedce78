"""Options shared by every command, argv normalisation (D20) and the choice of the pipeline file (D21)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer

from hypermetric.errors import UsageError

COMMANDS = ("list", "dry-run", "describe", "get-path", "graph", "run", "invalidate", "remove", "touch",
            "unlock", "results")

FileOpt = Annotated[Optional[str], typer.Option("-F", "--file", help="The pipeline file (default: the only *.hm here).")]
DefineOpt = Annotated[Optional[list[str]], typer.Option("-D", "--define", help="Define or override a value: name=value.")]
IncludeOpt = Annotated[Optional[list[str]], typer.Option("-I", "--include-dir", "--include", help="Add an import search directory.")]
ShellOpt = Annotated[str, typer.Option("-S", "--shell", help="Shell that runs job scripts.")]
RootOpt = Annotated[Optional[str], typer.Option("--root", help="Output root (overrides local.root).")]
ColorOpt = Annotated[str, typer.Option("--color", help="auto, always or never.")]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="Say more.")]
YesOpt = Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")]
DebugOpt = Annotated[bool, typer.Option("--debug", hidden=True, help="Show tracebacks of internal errors.")]
ArgsArg = Annotated[Optional[list[str]], typer.Argument(help="[FILE.hm] TARGET...", show_default=False)]


@dataclass(kw_only=True)
class Common:
    """What every command needs to load a pipeline."""

    positional: list[str] = field(default_factory=list)
    file: str | None = None
    defines: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    shell: str = "bash -e"
    root: str | None = None
    color: str = "auto"
    verbose: bool = False
    yes: bool = False

    def split(self) -> tuple[str, list[str]]:
        """(pipeline file, targets): the first positional naming a file or ending in `.hm` is the file."""
        targets: list[str] = []
        chosen = self.file
        for arg in self.positional:
            if chosen is None and (arg.endswith(".hm") or Path(arg).is_file()):
                chosen = arg
            else:
                targets.append(arg)
        return find_pipeline_file(chosen), targets

    def define_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in self.defines:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"invalid definition `{item}`", help="write -D name=value")
            out[name.strip()] = value
        return out


def find_pipeline_file(chosen: str | None) -> str:
    if chosen is not None:
        if not os.path.isfile(chosen):
            raise UsageError(f"Workflow file {chosen} does not exist.")
        return chosen
    candidates = sorted(p for p in os.listdir(".") if p.endswith(".hm") and os.path.isfile(p))
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(candidates) if candidates else "none here"
    raise UsageError("No pipeline file specified.", notes=[f"*.hm files in this directory: {found}"],
                     help="name the file: hypermetric COMMAND FILE.hm ... or -F FILE.hm")


def normalize_argv(argv: list[str]) -> list[str]:
    """Put the command first: `FILE run t` (HyperMake's order) and `-F f run t` both become `run ...`."""
    for i, arg in enumerate(argv):
        if arg in COMMANDS:
            return [arg, *argv[:i], *argv[i + 1:]] if i else list(argv)
    return list(argv)


_COMMON_PARAMS = (
    ("args", ArgsArg, None), ("file", FileOpt, None), ("define", DefineOpt, None), ("include", IncludeOpt, None),
    ("shell", ShellOpt, "bash -e"), ("root", RootOpt, None), ("color", ColorOpt, "auto"),
    ("verbose", VerboseOpt, False), ("debug", DebugOpt, False),
)


def command(app: typer.Typer, name: str, help: str, yes: bool = False):
    """Register `fn(common, **own_options)` as command `name`, adding the options every command shares."""
    import functools
    import inspect

    def decorate(fn):
        own = list(inspect.signature(fn, eval_str=True).parameters.values())[1:]
        shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
                  for n, a, d in _COMMON_PARAMS]
        if yes:
            shared.append(inspect.Parameter("yes", inspect.Parameter.KEYWORD_ONLY, default=False,
                                            annotation=YesOpt))
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        own_names = [p.name for p in own]

        @functools.wraps(fn)
        def wrapper(**kw):
            c = Common(positional=list(kw["args"] or []), file=kw["file"], defines=list(kw["define"] or []),
                       includes=list(kw["include"] or []), shell=kw["shell"], root=kw["root"],
                       color=kw["color"], verbose=kw["verbose"], yes=kw.get("yes", False))
            if not c.verbose:
                return fn(c, **{n: kw[n] for n in own_names})
            import sys

            from hypermetric.store.fscall import log_calls

            undo = log_calls(lambda line: sys.stderr.write(line + "\n"))
            try:
                return fn(c, **{n: kw[n] for n in own_names})
            finally:
                undo()

        params = shared + own
        wrapper.__signature__ = inspect.Signature(params)
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__
        app.command(name, help=help)(wrapper)
        return fn

    return decorate
