"""The `hypermetric` command: a thin typer shell over `hypermetric.api`; the only place that exits."""

from __future__ import annotations

import sys

import typer

from hypermetric import __version__
from hypermetric.cli import options as o
from hypermetric.cli.signals import exit_code as interrupted_exit_code
from hypermetric.cli.signals import interrupts
from hypermetric.errors import HmError, environment_error
from hypermetric.process_wide import command_scope

HEADER = f"hypermetric {__version__} -- A parameterized pipeline manager"

app = typer.Typer(
    name="hypermetric",
    help="Parameterized pipelines for ML evaluation: HyperMake files, run locally or on Ray.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion; targets complete from the .hm file here
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "-H", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hypermetric {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "-V", "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """hypermetric COMMAND [FILE.hm] [TARGET...] [OPTIONS]"""


# The module that defines each command. A command line imports only its own command's module (each pulls in
# what its command needs, and typer builds a parser per registered command); anything else, `--help` or a
# misspelt command, registers them all so that the listing and the "did you mean" see every one.
COMMAND_MODULES = {
    "list": "inspect", "dry-run": "inspect", "describe": "inspect", "get-path": "inspect", "graph": "inspect",
    "run": "run", "invalidate": "maintain", "remove": "maintain", "touch": "maintain", "unlock": "maintain",
    "results": "results", "runs": "history", "diff": "history", "report": "report", "generate": "generate",
    "table-collect": "tablecollect",
}


_registered: set[str] = set()


def _register(args: list[str] | None = None) -> None:
    """Add to `app` the commands `args` may name (each module once, as `main` may be called again)."""
    import importlib

    if args and args[0] in ("-V", "--version"):
        return
    wanted = COMMAND_MODULES.get(args[0]) if args else None
    for name in [wanted] if wanted else dict.fromkeys(COMMAND_MODULES.values()):
        if name not in _registered:
            importlib.import_module(f"hypermetric.cli.commands.{name}").register(app)
            _registered.add(name)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the process exit code."""
    args = o.normalize_argv(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    # The command owns the process while it runs; the console script's process then exits, and thawing what
    # the command froze would only make the interpreter's last collection walk all of it (see process_wide).
    with command_scope(thaw=argv is not None):
        code = run_cli(args, debug)
    if argv is None:
        sys.exit(code)
    return code


def run_cli(args: list[str], debug: bool = False) -> int:
    _register(args)
    command = typer.main.get_command(app)
    try:
        with interrupts():  # SIGTERM and SIGHUP stop the command as Ctrl-C does
            result = command.main(args=args, prog_name="hypermetric", standalone_mode=False)
        return int(result or 0)
    except HmError as exc:
        return report_error(exc)
    except KeyboardInterrupt as exc:
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
