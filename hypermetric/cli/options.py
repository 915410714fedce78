"""Options shared by every command, argv normalisation (options anywhere, HyperMake's order too) and the
choice of the pipeline file."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Literal, Optional

from hypermetric.cli import params as typer  # typer's way of declaring options, without importing typer
from hypermetric.cli.completion import complete_args
from hypermetric.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

COMMANDS = ("list", "dry-run", "describe", "get-path", "graph", "run", "invalidate", "remove", "touch",
            "unlock", "results", "runs", "diff", "report")

FileOpt = Annotated[Optional[str], typer.Option("-F", "--file", help="The pipeline file (default: the only *.hm here).")]
DefineOpt = Annotated[Optional[list[str]], typer.Option(
    "-D", "--define", help="Override a value the pipeline defines: name=value, the value a HyperMake "
                           "expression (text, a dict such as {Model: a b}, or a reference such as $x).")]
IncludeOpt = Annotated[Optional[list[str]], typer.Option("-I", "--include-dir", "--include", help="Add an import search directory.")]
ShellOpt = Annotated[str, typer.Option("-S", "--shell", help="Shell that runs job scripts.")]
RootOpt = Annotated[Optional[str], typer.Option("--root", help="Output root (overrides local.root).")]
ColorOpt = Annotated[Literal["auto", "always", "never"], typer.Option("--color", help="Colour: auto, always or never.")]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="Say more.")]
YesOpt = Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")]
IncludeGitOpt = Annotated[Optional[list[str]], typer.Option(
    "-G", "--include-git", help="Add an import search directory: a directory, or a git repository (cloned "
                                "once into the user's cache).")]
# HyperMake accepts its run options after every command, and scripts written for it pass them; where a
# command has no use for one it is accepted and ignored.
_IGNORED = "Accepted as HyperMake does; no effect on this command."
AnyJobsOpt = Annotated[Optional[int], typer.Option("-j", "--jobs", min=1, hidden=True, help=_IGNORED)]
AnyKeepGoingOpt = Annotated[bool, typer.Option("-k", "--keep-going", hidden=True, help=_IGNORED)]
AnySilentOpt = Annotated[bool, typer.Option("-s", "--silent", hidden=True, help=_IGNORED)]
AnyYesOpt = Annotated[bool, typer.Option("-y", "--yes", hidden=True, help=_IGNORED)]
ArgsArg = Annotated[Optional[list[str]], typer.Argument(help="[FILE.hm] TARGET...", show_default=False,
                                                        autocompletion=complete_args)]


class Common:
    """What every command needs to load a pipeline."""

    def __init__(self, *, positional: list[str] | None = None, file: str | None = None,
                 defines: list[str] | None = None, includes: list[str] | None = None, shell: str = "bash -e",
                 root: str | None = None, color: str = "auto", verbose: bool = False, yes: bool = False) -> None:
        self.positional: list[str] = [] if positional is None else positional
        self.file = file
        self.defines: list[str] = [] if defines is None else defines
        self.includes: list[str] = [] if includes is None else includes
        self.shell = shell
        self.root = root
        self.color = color
        self.verbose = verbose
        self.yes = yes

    def __repr__(self) -> str:
        return f"Common({', '.join(f'{name}={value!r}' for name, value in vars(self).items())})"

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other) if other.__class__ is self.__class__ else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # changed as options are read: never a key

    def split(self) -> tuple[str, list[str]]:
        """(pipeline file, targets): the first positional naming a file or ending in `.hm` is the file.

        Words are first joined as HyperMake joins its arguments before parsing them, so an unquoted
        `t[X: x2]` that the shell split in two is one target again."""
        targets: list[str] = []
        chosen = self.file
        for arg in join_target_words(self.positional):
            if chosen is None and (arg.endswith((".hm", ".json", ".yml", ".yaml")) or _is_file(arg)):
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


def _is_file(arg: str) -> bool:
    """`Path(arg).is_file()`; a word without `/` (most targets), which `Path` leaves as it is, is looked up
    without importing pathlib."""
    if "/" not in arg:
        return os.path.isfile(arg)
    from pathlib import Path

    return Path(arg).is_file()


def join_target_words(words: list[str]) -> list[str]:
    """Rejoin with spaces the words of a target split by the shell: a word inside an open `[`, or one that
    opens an index (`t [A: x]`), belongs to the target before it."""
    out: list[str] = []
    depth = 0
    for word in words:
        if out and (depth > 0 or word.startswith("[")):
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
        depth = out[-1].count("[") - out[-1].count("]")
    return out


def git_include(spec: str) -> str:
    """The directory `-G SPEC` adds: SPEC itself when it is a directory, else a clone of the git repository
    SPEC names, made once under the user's cache directory and reused."""
    if os.path.isdir(spec):
        return spec
    import hashlib
    import subprocess

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    target = os.path.join(cache, "hypermetric", "git", hashlib.sha1(spec.encode()).hexdigest()[:16])
    if os.path.isdir(os.path.join(target, ".git")):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        done = subprocess.run(["git", "clone", "--quiet", "--depth", "1", spec, target],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise UsageError(f"cannot clone `{spec}` for -G: {e}", help="install git, or pass a directory") from None
    if done.returncode != 0:
        last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "")
        raise UsageError(f"cannot clone `{spec}` for -G: {last.strip() or 'git clone failed'}",
                         help="-G takes a directory or a git repository URL that `git clone` accepts")
    return target


def _log_loads(write):
    """Hand each `hypermetric.load` record (which file an import loaded) to `write`; returns the undo."""
    import logging

    logger = logging.getLogger("hypermetric.load")

    class Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            write(record.getMessage())

    handler, level = Forward(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return undo


def find_pipeline_file(chosen: str | None) -> str:
    if chosen is not None:
        if os.path.isdir(chosen):
            raise UsageError(f"`{chosen}` is a directory, not a pipeline file",
                             help="name the .hm file itself, e.g. hypermetric COMMAND DIR/main.hm ...")
        if os.path.exists(chosen) and not os.path.isfile(chosen):
            raise UsageError(f"`{chosen}` is not a regular file", help="name the .hm pipeline file")
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
    ("verbose", VerboseOpt, False), ("debug", DebugOpt, False), ("include_git", IncludeGitOpt, None),
)
_RUN_PARAMS = (("jobs", AnyJobsOpt, None), ("keep_going", AnyKeepGoingOpt, False),
               ("silent", AnySilentOpt, False), ("yes", AnyYesOpt, False))


def _evaluated(annotation: object, fn: Callable[..., object]) -> object:
    """What `annotation` names in `fn`'s module: an option's type is a name there (`JobsOpt`), looked up
    rather than evaluated, as evaluating text compiles it first; anything else is evaluated."""
    if not isinstance(annotation, str):
        return annotation
    scope = fn.__globals__
    if annotation.isidentifier() and annotation in scope:
        return scope[annotation]
    return eval(annotation, scope)


def _own_params(fn: Callable[..., object]) -> list[typer.Param]:
    """Each parameter of `fn` after the first (the shared options), as `inspect.signature` reads it: from the
    signature the function carries, if any, else from its code (without importing inspect: it and the
    modules it loads cost a command line more than parsing it does)."""
    carried = getattr(fn, "__signature__", None)
    if carried is not None:
        return [typer.Param(p.name, _evaluated(p.annotation, fn), typer.EMPTY if p.default is p.empty else p.default)
                for p in list(carried.parameters.values())[1:]]
    code = fn.__code__
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    positional = fn.__defaults__ or ()
    defaults = dict(zip(names[code.co_argcount - len(positional):code.co_argcount], positional))
    defaults.update(fn.__kwdefaults__ or {})
    annotations = fn.__annotations__
    return [typer.Param(n, _evaluated(annotations.get(n, typer.EMPTY), fn), defaults.get(n, typer.EMPTY))
            for n in names[1:]]


def _signature(params: list[typer.Param]):  # -> inspect.Signature
    """The keyword-only signature typer reads, with each declaration made typer's own."""
    import inspect

    def made(value):
        return inspect.Parameter.empty if value is typer.EMPTY else value

    return inspect.Signature([inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=made(p.default),
                                                annotation=made(typer.for_typer(p.annotation))) for p in params])


def _call(fn, own_names: list[str], kw: dict):
    """`fn(common, **own_options)` from the options typer (or the small parser) read."""
    includes = list(kw["include"] or []) + [git_include(g) for g in kw["include_git"] or []]
    c = Common(positional=list(kw["args"] or []), file=kw["file"], defines=list(kw["define"] or []),
               includes=includes, shell=kw["shell"], root=kw["root"],
               color=kw["color"], verbose=kw["verbose"], yes=kw.get("yes", False))
    if not c.verbose:
        return fn(c, **{n: kw[n] for n in own_names})
    import sys

    from hypermetric.store.fscall import log_calls

    write = lambda line: sys.stderr.write(line + "\n")  # noqa: E731
    undo = log_calls(write)
    undo_load = _log_loads(write)
    try:
        return fn(c, **{n: kw[n] for n in own_names})
    finally:
        undo_load()
        undo()


def command(app: typer.Typer | typer.Commands, name: str, help: str, yes: bool = False):
    """Register `fn(common, **own_options)` as command `name`, adding the options every command shares: in
    a typer application (as the signature typer reads), or in the `Commands` that the small parser of
    `fast_argv` reads (as the function's `declared` parameters)."""
    import functools

    def decorate(fn):
        own = _own_params(fn)
        own_names = [p.name for p in own]
        extra = [(n, YesOpt if n == "yes" and yes else a, d) for n, a, d in _RUN_PARAMS if n not in own_names]
        params = [typer.Param(n, a, d) for n, a, d in (*_COMMON_PARAMS, *extra)] + own

        @functools.wraps(fn)
        def wrapper(**kw):
            try:
                return _call(fn, own_names, kw)
            except KeyboardInterrupt as e:
                from hypermetric.cli.signals import CommandInterrupted

                raise CommandInterrupted(e) from e

        del wrapper.__wrapped__
        wrapper.__dict__.pop("__signature__", None)  # one `fn` carried (copied by `wraps`) is not the wrapper's
        if isinstance(app, typer.Commands):
            wrapper.declared = tuple(params)
            wrapper.__annotations__ = {p.name: p.annotation for p in params}
            app.command(name, help=help)(wrapper)
        else:
            from hypermetric.cli.help_names import command_class

            wrapper.__signature__ = _signature(params)
            wrapper.__annotations__ = {p.name: typer.for_typer(p.annotation) for p in params}
            app.command(name, help=help, cls=command_class())(wrapper)
        return fn

    return decorate
