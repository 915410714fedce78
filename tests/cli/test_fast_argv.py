"""The small command-line parser (`fast_argv`) against typer's: the same table, the same values for every
command line it takes, and typer's answer for every one it does not."""

from __future__ import annotations

import errno
import importlib
import inspect
import io
import itertools
import sys
from typing import Any

import pytest
import typer

from hypermetric.cli import app as cli_app
from hypermetric.cli import fast_argv
from hypermetric.cli.commands import inspect as inspect_commands
from hypermetric.cli.signals import CommandInterrupted, exit_code

MODULES = {m: importlib.import_module(f"hypermetric.cli.commands.{m}") for m in set(cli_app.COMMAND_MODULES.values())}


def _fast_commands() -> dict[str, str]:
    """Every command the small parser takes (the others always go to typer), with its module."""
    out = {}
    for module_name, module in MODULES.items():
        commands = fast_argv.params.Commands()
        module.register(commands)
        out.update({name: module_name for name, fn in commands.functions.items() if fast_argv.table(fn)})
    return out


FAST = _fast_commands()


def test_the_commands_a_user_runs_most_are_parsed_without_typer():
    assert {"run", "dry-run", "list", "get-path"} <= set(FAST)


def click_command(module: Any, name: str) -> Any:
    app = cli_app._make_app()
    module.register(app)
    return typer.main.get_command(app).commands[name]


def fast_table(module: Any, name: str) -> list[fast_argv.Spec]:
    commands = fast_argv.params.Commands()
    module.register(commands)
    specs = fast_argv.table(commands.functions[name])
    assert specs is not None, f"`{name}` falls back to typer: its table is beyond the small parser"
    return specs


SAMPLES = ("0", "1", "4", " 4", "2_0", "-1", "x", "", "1.5", "nan", "inf", "auto", "always", "never", "Auto",
           "dot", "mermaid", "json", "a b", "=4")


def _click_value(param: Any, text: str) -> Any:
    try:
        return param.type.convert(text, param, None)
    except Exception:  # noqa: BLE001 - click's refusal, whatever its class
        return "refused"


def _fast_value(spec: fast_argv.Spec, text: str) -> Any:
    try:
        return spec.convert(text)
    except ValueError:
        return "refused"


@pytest.mark.parametrize("name", sorted(FAST))
def test_the_fast_table_is_typers_table(name):
    """Names, flags, arity, repetition, defaults and the conversion of sample values, option by option."""
    module = MODULES[FAST[name]]
    command = click_command(module, name)
    specs = {s.name: s for s in fast_table(module, name)}
    assert {p.name for p in command.params} == set(specs)
    for param in command.params:
        spec = specs[param.name]
        if param.param_type_name == "argument":
            assert (spec.names, param.nargs, param.required, spec.multiple) == ((), -1, False, True)
            continue
        assert set(param.opts) | set(param.secondary_opts) == set(spec.names), param.name
        assert (param.is_flag, param.multiple, param.nargs) == (spec.flag, spec.multiple, 1), param.name
        assert param.envvar is None and not param.is_eager and param.callback is None, param.name
        if spec.flag:
            assert (param.is_bool_flag, param.count, param.default, spec.default) == (True, False, False, False)
            continue
        assert spec.default == (param.default if param.default != () else None), param.name
        for text in SAMPLES:  # refusing what typer takes only hands the command line to typer
            fast = _fast_value(spec, text)
            assert fast == "refused" or repr(fast) == repr(_click_value(param, text)), (param.name, text)


# Command lines for both parsers: HyperMake's order, options anywhere, `=` and attached values, clusters of
# short flags, `--`, repeats; and some that typer refuses or that only typer understands.
WORDS = [
    ["main.hm", "t[A: *]"], ["t", "main.hm"], ["-F", "main.hm", "t"], ["--file=main.hm", "t"], ["t[A:", "x]"],
    ["-j4"], ["-j", "4"], ["--jobs=2"], ["--jobs", "3"], ["-j0"], ["-jx"], ["-j", "-1"], ["-j"], ["-j=4"],
    ["-y"], ["-ky"], ["-kyj2"], ["-ysv"], ["--yes", "--yes"], ["-s"], ["--silent=1"], ["-v"], ["--verbose"],
    ["-D", "a=1", "-D", "b={A: x y}"], ["--define=a=1"], ["-Da=2"], ["-I", "lib", "--include", "x"],
    ["--include-dir=y"], ["-G", "."], ["-S", "bash -eu"], ["--shell=sh"], ["--root", "out2"], ["--root="],
    ["--color", "never"], ["--color=always"], ["--color", "blue"], ["--debug"], ["--", "-t"], ["-", "t"],
    ["--backend", "local"], ["--retries", "2"], ["--retries=-1"], ["--grace", "0.5"], ["--grace=-1"],
    ["--ignore-changes"], ["--machines", "m.yml"], ["--ray-address=auto"], ["--format", "mermaid"],
    ["--format=png"], ["-o", "json"], ["--jobs"], ["--bogus"], ["-x"], ["--help"], ["-h"], ["-H"],
    ["-j", "2", "-j", "5"], ["--root", "a", "--root", "b"], ["-F", "-x"], ["--no-verbose"], ["--verb"],
]


def _corpus() -> list[list[str]]:
    lines = []
    for name in sorted(FAST):
        for first, second in itertools.product(WORDS, [[], ["t"], ["-y", "main.hm"]]):
            lines.append([name, *first, *second])
            lines.append([name, *second, *first])
    return lines


def _probed(monkeypatch) -> list[tuple[Any, ...]]:
    """Each command function swapped for one that records what it is called with."""
    calls: list[tuple[Any, ...]] = []
    for module in MODULES.values():
        for attr, fn in list(vars(module).items()):
            if attr.startswith("cmd_") and inspect.isfunction(fn):
                def probe(*args, **kw):
                    calls.append((args, kw))
                    return 0
                probe.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
                monkeypatch.setattr(module, attr, probe)
    return calls


def _by_typer(args: list[str], calls: list, groups: dict[str, Any]) -> Any:
    calls.clear()
    if args[0] not in groups:
        app = cli_app._make_app()
        MODULES[FAST[args[0]]].register(app)
        groups[args[0]] = typer.main.get_command(app)
    try:
        groups[args[0]].main(args=args, prog_name="hypermetric", standalone_mode=False)
    except Exception as exc:  # noqa: BLE001 - click's refusal, whatever its class
        return ("refused", type(exc).__name__)
    return calls[-1] if calls else ("no call",)


def test_both_parsers_agree_on_every_command_line_the_small_one_takes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = _probed(monkeypatch)
    taken, groups = 0, {}
    for args in _corpus():
        calls.clear()
        bound = fast_argv.call(args, FAST[args[0]])
        if bound is None:
            continue
        bound()
        fast = calls[-1]
        assert _by_typer(args, calls, groups) == fast, args
        taken += 1
    assert taken > len(_corpus()) // 3  # the common command lines do not fall back


@pytest.mark.parametrize("args", [
    ["run", "main.hm", "t[I: *]", "-j2", "-y"], ["run", "t", "-F", "main.hm", "-kj4", "-D", "a=1", "-D", "b=2"],
    ["dry-run", "main.hm", "t", "--color=never"], ["list", "main.hm"], ["run", "--", "main.hm", "-t"],
])
def test_the_command_lines_a_user_runs_most_need_no_typer(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _probed(monkeypatch)
    assert fast_argv.call(args, FAST[args[0]]) is not None


@pytest.mark.parametrize("args", [
    ["run", "--help"], ["run", "-h"], ["run", "--bogus"], ["run", "-j0"], ["run", "--color", "blue"],
    ["run", "-j"], ["run", "-F", "-x"], ["run", "--verbose=1"], ["run", "-"], ["describe", "-o", "xml"],
])
def test_what_the_small_parser_does_not_fully_understand_goes_to_typer(args, monkeypatch):
    _probed(monkeypatch)
    assert fast_argv.call(args, FAST[args[0]]) is None


def test_shell_completion_always_goes_to_typer(monkeypatch):
    _probed(monkeypatch)
    monkeypatch.setenv("_HYPERMETRIC_COMPLETE", "bash_complete")
    assert fast_argv.call(["run", "main.hm", "t"], "run") is None


def test_a_command_declared_with_typer_itself_goes_to_typer():
    assert "table-collect" not in FAST  # a value without a default: typer's to ask for
    assert fast_argv.call(["table-collect", "--inputs", "x", "--output", "y"], "tablecollect") is None


@pytest.mark.parametrize("raised, code, stderr", [(KeyboardInterrupt, 130, "Interrupted.\n"),
                                                  (EOFError, 1, "\nAborted.\n"), (BrokenPipeError, 1, "")])
def test_what_a_command_lets_out_ends_as_under_typer(raised, code, stderr, monkeypatch):
    def interrupted(*args, **kw):
        raise raised(errno.EPIPE, "pipe") if raised is BrokenPipeError else raised()

    interrupted.__signature__ = inspect.signature(inspect_commands.cmd_list, eval_str=True)  # type: ignore[attr-defined]
    monkeypatch.setattr(inspect_commands, "cmd_list", interrupted)
    for parsed in (cli_app._parsed_without_typer, cli_app._parsed_by_typer):
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        monkeypatch.setattr(cli_app, "_app", None)
        monkeypatch.setattr(cli_app, "_registered", set())
        invoke = parsed(["list", "main.hm"])
        assert invoke is not None
        assert _exit_of(invoke) == code, parsed.__name__
        pacified = type(sys.stdout).__name__ == "PacifyFlushWrapper"  # later flushes of a closed pipe are quiet
        assert pacified == (raised is BrokenPipeError), parsed.__name__
        assert getattr(sys.stderr, "wrapped", sys.stderr).getvalue() == stderr, parsed.__name__


def _exit_of(invoke: Any) -> int:
    """The exit code `run_cli` makes of `invoke()`."""
    try:
        result = invoke()
    except SystemExit as exc:
        return int(exc.code or 0)
    except CommandInterrupted as exc:  # (typer's parser would have made it a silent 130: it never sees it)
        sys.stderr.write("Interrupted.\n")
        return exit_code(exc)
    except Exception as exc:  # noqa: BLE001 - typer's signalling exceptions
        code = cli_app._framework_exit(exc)
        assert code is not None, exc
        return code
    return int(result or 0)
