"""The `hypermetric` command: a thin shell over `hypermetric.api`, parsed by typer or, for a command line that
uses only what it fully understands, by the small parser of `fast_argv`; the only place that exits."""

from __future__ import annotations

import errno
import sys

from hypermetric import __version__
from hypermetric.process_wide import collector_paused, command_scope, freeze_built

# Everything else is imported by `run_cli` with the collector paused, `typing` too (hence no `typing` here).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import typer

    from hypermetric.errors import HmError

HEADER = f"hypermetric {__version__} -- A parameterized pipeline manager"
VERSION_LINE = f"hypermetric {__version__}"
VERSION_FLAGS = (["-V"], ["--version"])


def _make_app() -> typer.Typer:
    """The typer application with no command yet (`_register` adds those a command line needs)."""
    import typer

    from hypermetric.cli.help_names import group_class

    app = typer.Typer(
        cls=group_class(),
        name="hypermetric",
        help="Parameterized pipelines for ML evaluation: HyperMake files, run locally or on Ray.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion / --show-completion; targets complete from the .hm file
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "-H", "--help"]},
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(VERSION_LINE)
            raise typer.Exit()

    @app.callback()
    def _root(version: bool = typer.Option(False, "-V", "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit.")) -> None:
        """hypermetric COMMAND [FILE.hm] [TARGET...] [OPTIONS]"""

    return app


# The module that defines each command. A command line imports only its own command's module (each pulls in
# what its command needs, and typer builds a parser per registered command); anything else, `--help` or a
# misspelt command, registers them all so that the listing and the "did you mean" see every one.
COMMAND_MODULES = {
    "list": "inspect", "dry-run": "inspect", "describe": "inspect", "get-path": "inspect", "graph": "inspect",
    "run": "run", "invalidate": "maintain", "remove": "maintain", "touch": "maintain", "unlock": "maintain",
    "results": "results", "runs": "history", "diff": "history", "report": "report", "generate": "generate",
    "table-collect": "tablecollect",
}


_app: typer.Typer | None = None
_registered: set[str] = set()


def _register(args: list[str] | None = None) -> typer.Typer:
    """The application with the commands `args` may name added (each module once, as `main` may be called
    again)."""
    import importlib

    global _app
    if _app is None:
        _app = _make_app()
    if args and args[0] in ("-V", "--version"):
        return _app
    wanted = COMMAND_MODULES.get(args[0]) if args else None
    for name in [wanted] if wanted else dict.fromkeys(COMMAND_MODULES.values()):
        if name not in _registered:
            importlib.import_module(f"hypermetric.cli.commands.{name}").register(_app)
            _registered.add(name)
    return _app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in VERSION_FLAGS:  # what typer would print, without importing it (or any command) to print it
        try:
            sys.stdout.write(VERSION_LINE + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        return _exit(0, argv)
    # The command owns the process while it runs; the console script's process then exits, and thawing what
    # the command froze would only make the interpreter's last collection walk all of it (see process_wide).
    with command_scope(thaw=argv is not None):
        code = run_cli(args)
    return _exit(code, argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code


def run_cli(args: list[str], debug: bool = False) -> int:
    """Run the command line `args` (options anywhere, the command first or in HyperMake's place); its exit
    code."""
    # Importing the option parser, the command's module and the model makes many objects and no cycles.
    with collector_paused():
        from hypermetric.cli.options import normalize_argv
        from hypermetric.cli.signals import CommandInterrupted, interrupts
        from hypermetric.cli.signals import exit_code as interrupted_exit_code
        from hypermetric.errors import HmError, environment_error

        args = normalize_argv(args)
        debug = debug or "--debug" in args
        invoke = _parsed_without_typer(args) or _parsed_by_typer(args)
        # What start-up made (modules, classes, the command's parser) lives until the command ends: left in
        # the collector's passes, each pass the command's own imports trigger would walk all of it again.
        freeze_built()
    try:
        with interrupts():  # SIGTERM and SIGHUP stop the command as Ctrl-C does
            result = invoke()
        return int(result or 0)
    except HmError as exc:
        return report_error(exc)
    except (KeyboardInterrupt, CommandInterrupted) as exc:
        sys.stderr.write("Interrupted.\n")
        return interrupted_exit_code(exc)
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # Our own writes (run records, job directories, removals) meet read-only or full file systems; that
        # is the user's environment, reported like any user error. Any other OSError is still a bug.
        fault = environment_error(exc)
        if fault is None:
            return _internal_error(exc, debug)
        return report_error(fault)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        code = _framework_exit(exc)
        if code is not None:
            return code
        return _internal_error(exc, debug)


def _parsed_by_typer(args: list[str]) -> Callable[[], Any]:
    import typer

    command = typer.main.get_command(_register(args))
    return lambda: command.main(args=args, prog_name="hypermetric", standalone_mode=False)


def _parsed_without_typer(args: list[str]) -> Callable[[], Any] | None:
    """The command bound to its options when the small parser understands the whole command line (see
    `fast_argv`), run as typer would run it; None to let typer parse it."""
    module = COMMAND_MODULES.get(args[0]) if args else None
    if module is None:
        return None
    from hypermetric.cli.fast_argv import call

    bound = call(args, module)
    return None if bound is None else lambda: _as_typer_runs(bound)


def _as_typer_runs(bound: Callable[[], Any]) -> Any:
    """`bound()`, with what typer's `main` makes of the exceptions a command lets out: end of input aborts,
    and a closed output pipe exits 1 with later flushes silenced. An interrupt goes on to `run_cli`, which says
    so and exits with the signal's code (see `signals.CommandInterrupted`)."""
    try:
        return bound()
    except EOFError:
        sys.stderr.write("\nAborted.\n")
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        sys.exit(1)


def _internal_error(exc: Exception, debug: bool) -> int:
    if debug:
        raise exc
    sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                     "this is a bug in hypermetric; re-run with --debug for the traceback\n")
    return 70


def _framework_exit(exc: Exception) -> int | None:
    """Exit code for typer/click's own signalling exceptions (duck-typed: typer vendors its click)."""
    kind = type(exc).__name__
    if kind == "Exit":
        return int(getattr(exc, "exit_code", 0))
    if kind == "Abort":
        sys.stderr.write("Aborted.\n")
        return 1
    if kind == "NoArgsIsHelpError":
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        sys.stdout.write(message + "\n")
        return 0
    if hasattr(exc, "show") and hasattr(exc, "exit_code"):
        from hypermetric.cli.parse_errors import usage_error

        return report_error(usage_error(exc))
    return None


def report_error(exc: HmError) -> int:
    from hypermetric.cli.console import use_color
    from hypermetric.diagnostic import render

    color = use_color("auto", sys.stderr)
    sys.stderr.write("\n\n".join(render(d, color) for d in exc.diagnostics) + "\n")
    return exc.exit_code
