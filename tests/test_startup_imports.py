"""Start-up, counted: which modules a command imports and what it leaves on disk, for the commands that should
do almost nothing (`--version`, a `run` whose jobs are all done, `list`). Each list names modules that a
change once removed from that command's path; none of these tests measures time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What only running a job needs: the runner and its job protocol, the watchdog, the run record and history,
# the remote backend's configuration, and the rich console (a run off a terminal writes plain lines).
RUNNING_ONLY = ("rich", "hypermetric.execution.protocol", "hypermetric.execution.local",
                "hypermetric.execution.watchdog", "hypermetric.execution.remote_config",
                "hypermetric.store.history", "hypermetric.store.runs",
                "lark", "ray", "pyarrow")


def imported(cwd: Path, cache: Path, args: list[str], names: tuple[str, ...]) -> list[str]:
    """Runs `main(args)` in a fresh Python (exit 0 required); which of `names` (modules or packages) it
    imported."""
    code = ("import sys; from hypermetric.cli.app import main\n"
            f"assert main({args!r}) == 0\n"
            f"names = {names!r}\n"
            "print(sorted(n for n in names if any(m == n or m.startswith(n + '.') for m in sys.modules)))")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**env, "XDG_CACHE_HOME": str(cache)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.hm").write_text("a = {A: x y}\n\ntask t(a=$) -> o:\n  echo $a > $o\n")
    return tmp_path


def test_version_imports_neither_typer_nor_any_command(tmp_path):
    names = ("typer", "rich", "hypermetric.cli.options", "hypermetric.cli.commands", "hypermetric.api")
    assert imported(tmp_path, tmp_path / "cache", ["--version"], names) == []
    assert imported(tmp_path, tmp_path / "cache", ["-V"], names) == []


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--version", "--bogus"]])
def test_version_says_what_it_said_before(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    if args[1:]:  # the version flag with anything after it is still parsed whole, and refused
        assert proc.returncode == 2 and "no option `--bogus`" in proc.stderr
    else:
        assert (proc.returncode, proc.stdout) == (0, f"hypermetric {__import__('hypermetric').__version__}\n")


def test_a_run_whose_jobs_are_all_done_imports_nothing_that_runs_jobs(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    args = ["run", "main.hm", "t[A: *]", "-j2", "-y"]
    first = imported(project, cache, args, RUNNING_ONLY)
    assert "hypermetric.execution.local" in first and "lark" in first  # it ran the jobs, parsing first
    assert imported(project, cache, args, RUNNING_ONLY) == []
    assert (project / "out" / "t" / "A=y" / "o").read_text() == "y\n"


def test_running_jobs_loads_no_openssl(project, tmp_path_factory):
    """Signatures are blake2b, which comes without the OpenSSL library that `hashlib` loads (a few ms). (A
    pipeline parsed afresh may load it: lark and the grammar's cache do.)"""
    cache = tmp_path_factory.mktemp("cache")
    imported(project, cache, ["dry-run", "main.hm", "t[A: *]"], ())
    ran = imported(project, cache, ["run", "main.hm", "t[A: *]", "-j2", "-y"],
                   ("hypermetric.execution.local", "hypermetric.plan.signature", "hashlib", "_hashlib"))
    assert ran == ["hypermetric.execution.local", "hypermetric.plan.signature"]
    assert (project / "out" / "t" / "A=y" / "o").read_text() == "y\n"


def test_checking_done_jobs_needs_no_file_system_calls_or_process_modules(project, tmp_path_factory):
    """The status of local jobs is `stat`s and small reads: a run whose jobs are all done loads neither the
    custom file systems' call machinery (logging, subprocess, tempfile) nor what removing outdated jobs needs
    (shutil, which loads the compressors), nor uuid (which loads platform) for a temporary name."""
    cache = tmp_path_factory.mktemp("cache")
    args = ["run", "main.hm", "t[A: *]", "-j2", "-y"]
    imported(project, cache, args, ())
    heavy = ("hypermetric.store.fscall", "hypermetric.store.mutations", "logging", "subprocess", "tempfile",
             "shutil", "uuid", "socket")
    assert imported(project, cache, args, heavy) == []


def test_list_on_a_cached_pipeline_neither_plans_nor_reads_statuses(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    names = ("hypermetric.plan", "hypermetric.store", "hypermetric.execution.engine", "rich", "lark", "ray",
             "pyarrow")
    assert "lark" in imported(project, cache, ["list", "main.hm"], names)  # the first time parses
    assert imported(project, cache, ["list", "main.hm"], names) == []


def test_a_run_whose_jobs_are_all_done_writes_no_record_and_says_so(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hypermetric", "run", "main.hm", "t[A: *]"], cwd=project,
                              env={**env, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True,
                              timeout=120)

    assert run().returncode == 0
    records = sorted((project / "out" / ".runs").iterdir())
    again = run()
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("2 complete in ") and again.stdout.count("\n") == 1
    assert sorted((project / "out" / ".runs").iterdir()) == records


def test_a_failed_job_still_gets_its_panel_off_a_terminal(project, tmp_path_factory):
    """The console is made only when something needs rich; a failure's panel does."""
    cache = tmp_path_factory.mktemp("cache")
    (project / "main.hm").write_text("task t -> o:\n  echo oops >&2\n  exit 3\n")
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "run", "main.hm", "t"], cwd=project,
                          env={**os.environ, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "t[default]: FAILED: exit code 3 ≠ 0" in lines
    assert any(line.startswith("╭") and "t[default] FAILED" in line for line in lines)
    assert any("oops" in line and line.startswith("│") for line in lines)
    assert lines[-1].startswith("1 failed in ")



def test_setting_up_a_command_leaves_the_collector_alone_and_as_it_was(project, tmp_path_factory):
    """Importing the parser, the command and the model, and unpickling a cached pipeline, make many objects
    and no cycles: the cyclic collector is paused for them (`list` once took 13 passes, in a fresh process
    with the pipeline cached), and left on, or off, as the caller had it."""
    cache = tmp_path_factory.mktemp("cache")
    code = ("import contextlib, gc, io, sys\n"
            "passes = []\n"
            "gc.callbacks.append(lambda phase, info: passes.append(1) if phase == 'start' else None)\n"
            "from hypermetric.cli.app import main\n"
            "for collecting in (True, False):\n"
            "    gc.enable() if collecting else gc.disable()\n"
            "    passes.clear()\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        assert main(['list', 'main.hm']) == 0\n"
            "    print(len(passes), gc.isenabled())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=project, env={**env, "XDG_CACHE_HOME": str(cache)},
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert all(proc.returncode == 0 for proc in runs), runs[-1].stderr
    fresh, off = (line.split() for line in runs[1].stdout.splitlines())  # the second process: a cached load
    assert fresh[1] == "True" and off == ["0", "False"]
    assert int(fresh[0]) <= 6


@pytest.mark.parametrize("args", [["run", "main.hm", "t[A: *]", "-j2", "-y"], ["dry-run", "t[A: x]", "-F", "main.hm"],
                                  ["list", "main.hm"], ["main.hm", "run", "t", "-kD", "a={A: z}"]])
def test_a_plain_command_line_is_parsed_without_typer(project, tmp_path_factory, args):
    """typer and its click are imported only for what the small parser of `fast_argv` leaves to them."""
    cache = tmp_path_factory.mktemp("cache")
    assert imported(project, cache, args, ("typer", "click")) == []


@pytest.mark.parametrize("option, message", [
    ("--bogus", "error: `hypermetric run` has no option `--bogus`"),
    ("-j0", "error: invalid value for `--jobs`: 0 is not in the range x>=1"),
    ("--color=blue", "error: invalid value `blue` for `--color`"),
    ("-j", "error: option `-j` requires an argument"),
    ("--verbose=1", "error: option `--verbose` does not take a value"),
])
def test_what_the_small_parser_leaves_to_typer_gets_typers_message(project, tmp_path, option, message):
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "run", "main.hm", "t", option], cwd=project,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.splitlines()[0] == message, proc.stderr
    assert not (project / "out").exists()


# What a command on an unchanged pipeline needs none of: the syntax tree (a target's classes have their own
# module, `syntax.refs`), pathlib and urllib (its paths are strings, its keys mostly unencoded), difflib (a
# suggestion for a misspelt name), typer (a plain command line).
CACHED_NEVER = ("hypermetric.syntax.ast", "pathlib", "urllib", "difflib", "typer")


@pytest.mark.parametrize("args", [["run", "main.hm", "t[A: *]", "-y"], ["dry-run", "main.hm", "t[A: x]"],
                                  ["get-path", "main.hm", "t"], ["list", "main.hm"]])
@pytest.mark.parametrize("imports", [False, True])
def test_a_command_on_a_cached_pipeline_makes_no_syntax_tree(project, tmp_path_factory, args, imports):
    cache = tmp_path_factory.mktemp("cache")
    if imports:  # an entry keeps its imports as text, not as the statements' syntax nodes
        (project / "defs").mkdir()
        (project / "defs" / "lib.hm").write_text("a = {A: x y}\n")
        (project / "main.hm").write_text('import "defs/lib.hm"\nimport defs.lib as l\n\n'
                                         "task t(a=$) -> o:\n  echo $a > $o\n")
    assert "hypermetric.syntax.ast" in imported(project, cache, args, CACHED_NEVER)  # the first time parses
    assert imported(project, cache, args, CACHED_NEVER) == []


def test_list_on_a_cached_pipeline_makes_the_collector_walk_nothing(project, tmp_path_factory):
    """Start-up (the parser, the command, the model's modules, the cached pipeline) runs with the collector
    paused and is then frozen out of its passes: what it made lives until the command ends, and a pass
    triggered later (by the command's own imports) would otherwise walk all of it."""
    cache = tmp_path_factory.mktemp("cache")
    code = ("import contextlib, gc, io\n"
            "from hypermetric.cli.app import main\n"
            "passes = []\n"
            "gc.callbacks.append(lambda phase, info: passes.append(1) if phase == 'start' else None)\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['list', 'main.hm']) == 0\n"
            "print(len(passes), gc.get_freeze_count())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=project, env={**env, "XDG_CACHE_HOME": str(cache)},
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert all(proc.returncode == 0 for proc in runs), runs[-1].stderr
    assert runs[1].stdout.split() == ["0", "0"]  # no pass; and `main(argv)` thaws what it froze


def test_the_dataclasses_a_cached_command_creates_have_their_own_docstrings():
    """A dataclass without a docstring is given one made from `inspect.signature` as it is created, which
    costs about as much as a fifth of creating it; the command line and the model create theirs at start-up."""
    import dataclasses
    import importlib
    import pkgutil

    import hypermetric

    names = ("hypermetric.syntax.", "hypermetric.semantics.", "hypermetric.model.", "hypermetric.diagnostic",
             "hypermetric.source", "hypermetric.errors", "hypermetric.cli.session", "hypermetric.cli.options",
             "hypermetric.cli.app", "hypermetric.cli.fast_argv", "hypermetric.cli.params")
    made_up = []
    for info in pkgutil.walk_packages(hypermetric.__path__, "hypermetric."):
        if not info.name.startswith(names):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == info.name:
                if (value.__dict__.get("__doc__") or "").startswith(value.__name__ + "("):
                    made_up.append(f"{info.name}.{name}")
    assert made_up == []


def test_loading_a_pipeline_with_imports_needs_no_logging(project, tmp_path_factory):
    """Each import is logged for `-v`, which imports `logging` to listen; nobody else can be listening before
    something imports it, so a cached load does not import it to log into the void (Lark, which parses, does;
    and the store still does)."""
    cache = tmp_path_factory.mktemp("cache")
    (project / "lib.hm").write_text("a = {A: x y}\n")
    (project / "main.hm").write_text('import "lib.hm"\n\ntask t(a=$) -> o:\n  echo $a > $o\n')
    code = ("import os, sys; from hypermetric import api\n"
            "assert api.load('main.hm', cwd=os.getcwd()).axis('A').keys == ('x', 'y')\n"
            "print('logging' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=project, env={**env, "XDG_CACHE_HOME": str(cache)},
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert [(proc.returncode, proc.stdout) for proc in runs] == [(0, "True\n"), (0, "False\n")], runs[-1].stderr
