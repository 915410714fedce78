"""Start-up: what a command imports, and the on-disk caches of checked pipelines and parsed targets that let
a command on an unchanged pipeline skip Lark, parsing and analysis. Every cache test checks that an edit,
a new file, a different option or a damaged cache file is seen, never a stale pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("lark", "ray", "pyarrow")


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    return {**env, "XDG_CACHE_HOME": str(cache), **extra}


def cli(cwd: Path, cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in a fresh process, with its caches under `cache`."""
    return subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=cwd, env=_env(cache, **env),
                          capture_output=True, text=True, timeout=120)


def imported_by(cwd: Path, cache: Path, *args: str) -> list[str]:
    """Runs the CLI's `main(args)` in a fresh Python; the heavy modules it imported (exit 0 required)."""
    code = ("import sys; from hypermetric.cli.app import main\n"
            f"assert main({list(args)!r}) == 0\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_env(cache), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.hm").write_text('import "defs/lib.hm"\n\ntask t(a=$) -> o:\n  echo $a > $o\n')
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "lib.hm").write_text("a = {A: x y}\n")
    return tmp_path


def keys_of(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ------------------------------------------------------------------------------------------ import hygiene

def test_a_cached_pipeline_is_neither_parsed_nor_analysed(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    assert "lark" in imported_by(project, cache, "dry-run", "t[A: *]")  # the first time parses
    assert imported_by(project, cache, "dry-run", "t[A: *]") == []
    assert imported_by(project, cache, "list") == []
    assert imported_by(project, cache, "run", "t[A: *]", "-s") == []     # runs both jobs: no Ray
    assert imported_by(project, cache, "run", "t[A: *]", "-s") == []     # all done
    assert (project / "out" / "t" / "A=y" / "o").read_text() == "y\n"


def test_version_and_help_import_no_command_they_do_not_show(tmp_path):
    code = ("import sys; from hypermetric.cli.app import main\n"
            "assert main(['--version']) == 0\n"
            "print(sorted(m for m in sys.modules if m.startswith('hypermetric.cli.commands.')"
            " or m.split('.')[0] in ('lark', 'ray', 'pyarrow', 'rich')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hypermetric " + __import__("hypermetric").__version__, "[]"]


def test_help_imports_nothing_heavy(tmp_path):
    code = ("import sys; from hypermetric.cli.app import main\n"
            "assert main(['--help']) == 0\n"
            "print(sorted(m for m in ('lark', 'ray', 'pyarrow', 'numpy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == "[]", proc.stderr


def test_help_lists_every_command_and_each_module_registers_its_own():
    import typer

    from hypermetric.cli.app import COMMAND_MODULES, main

    for module in set(COMMAND_MODULES.values()):
        app = typer.Typer()
        __import__(f"hypermetric.cli.commands.{module}", fromlist=["register"]).register(app)
        names = {info.name for info in app.registered_commands}
        assert names == {c for c, m in COMMAND_MODULES.items() if m == module}, module
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    shown = {c for c in COMMAND_MODULES if f"  {c} " in proc.stdout}
    assert shown == set(COMMAND_MODULES) - {"table-collect"}  # that one is hidden
    assert main is not None


def test_a_misspelt_command_still_gets_a_suggestion(tmp_path):
    proc = cli(tmp_path, tmp_path / "cache", "dry-rn")
    assert proc.returncode == 2 and "dry-run" in proc.stderr


# ------------------------------------------------------------------------------- cache correctness (CLI)

def test_an_edited_imported_file_is_seen(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    assert "A=y" in keys_of(cli(project, cache, "get-path", "t[A: *]"))
    (project / "defs" / "lib.hm").write_text("a = {A: x z}\n")
    out = keys_of(cli(project, cache, "get-path", "t[A: *]"))
    assert "A=z" in out and "A=y" not in out


def test_a_new_file_that_shadows_an_import_is_seen(tmp_path, tmp_path_factory):
    """An import looks in the current directory before the importing file's own: a file created there later
    changes what the import loads, though no file the pipeline loaded has changed."""
    cache = tmp_path_factory.mktemp("cache")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "main.hm").write_text("import lib\n\ntask t(a=$lib.a) -> o:\n  echo $a > $o\n")
    (sub / "lib.hm").write_text("a = {A: x y}\n")
    assert "A=y" in keys_of(cli(tmp_path, cache, "get-path", "-F", "sub/main.hm", "t[A: *]"))
    (tmp_path / "lib.hm").write_text("a = {A: p q}\n")
    out = keys_of(cli(tmp_path, cache, "get-path", "-F", "sub/main.hm", "t[A: *]"))
    assert "A=q" in out and "A=y" not in out


def test_the_import_search_path_from_the_environment_is_part_of_the_key(tmp_path, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    for name, key in (("one", "u"), ("two", "v")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "lib.hm").write_text(f"a = {{A: x {key}}}\n")
    (tmp_path / "main.hm").write_text("import lib\n\ntask t(a=$lib.a) -> o:\n  echo $a > $o\n")
    one = keys_of(cli(tmp_path, cache, "get-path", "t[A: *]", HYPERMETRIC_PATH=str(tmp_path / "one")))
    two = keys_of(cli(tmp_path, cache, "get-path", "t[A: *]", HYPERMETRIC_PATH=str(tmp_path / "two")))
    assert "A=u" in one and "A=v" in two


def test_defines_are_part_of_the_key(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    assert "A=y" in keys_of(cli(project, cache, "get-path", "t[A: *]"))
    out = keys_of(cli(project, cache, "get-path", "t[A: *]", "-D", "a={A: m n}"))
    assert "A=n" in out and "A=y" not in out
    assert "A=y" in keys_of(cli(project, cache, "get-path", "t[A: *]"))


def test_keys_from_an_inline_command_are_never_cached(tmp_path, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    (tmp_path / "keys").write_text("k1 k2\n")
    (tmp_path / "main.hm").write_text("a = {A: `cat keys`}\n\ntask t(a=$) -> o:\n  echo $a > $o\n")
    assert "A=k2" in keys_of(cli(tmp_path, cache, "get-path", "t[A: *]"))
    (tmp_path / "keys").write_text("k1 k3\n")
    out = keys_of(cli(tmp_path, cache, "get-path", "t[A: *]"))
    assert "A=k3" in out and "A=k2" not in out


def test_damaged_cache_files_are_ignored_and_replaced(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    keys_of(cli(project, cache, "get-path", "t[A: *]"))
    stored = sorted((cache / "hypermetric").rglob("*.pickle"))
    assert {p.parent.name for p in stored} == {"pipelines", "targets"}
    for i, path in enumerate(stored):  # garbage, a truncated pickle, and another program's pickle
        path.write_bytes([b"not a pickle", path.read_bytes()[:20], b"\x80\x04K\x07."][i % 3])
    assert "A=y" in keys_of(cli(project, cache, "get-path", "t[A: *]"))
    assert imported_by(project, cache, "get-path", "t[A: *]") == []  # rewritten whole, and used again


def test_an_unwritable_cache_only_costs_time(project, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = cli(project, blocker, "get-path", "t[A: *]")
    assert proc.returncode == 0 and "A=y" in proc.stdout, proc.stderr


def test_verbose_still_says_where_imports_come_from_on_a_cached_load(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    first = cli(project, cache, "get-path", "t", "-v")
    second = cli(project, cache, "get-path", "t", "-v")
    assert "loaded from" in first.stderr
    assert [ln for ln in second.stderr.splitlines() if "loaded from" in ln] == \
           [ln for ln in first.stderr.splitlines() if "loaded from" in ln]


# -------------------------------------------------------------------------------- cache internals (API)

def test_an_entry_under_another_key_is_a_miss(tmp_path):
    from hypermetric.syntax import memo

    memo.write(str(tmp_path), "a" * 64, "value")
    assert memo.read(str(tmp_path), "a" * 64) == "value"
    (tmp_path / ("b" * 40 + ".pickle")).write_bytes((tmp_path / ("a" * 40 + ".pickle")).read_bytes())
    assert memo.read(str(tmp_path), "b" * 64) is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_the_key_changes_with_the_code_that_builds_the_model(tmp_path, monkeypatch):
    from hypermetric.syntax import memo

    monkeypatch.setattr(memo, "_PACKAGE", tmp_path)
    (tmp_path / "syntax").mkdir()
    (tmp_path / "syntax" / "m.py").write_text("x = 1\n")
    memo.code_fingerprint.cache_clear()
    before = memo.code_fingerprint("syntax")
    (tmp_path / "syntax" / "m.py").write_text("x = 22\n")
    memo.code_fingerprint.cache_clear()
    assert memo.code_fingerprint("syntax") != before
    memo.code_fingerprint.cache_clear()


def test_concurrent_loads_all_succeed_and_leave_one_whole_entry(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    code = ("import os; from hypermetric import api\n"
            "p = api.load('main.hm', cwd=os.getcwd())\n"
            "print(','.join(p.axis('A').keys))")
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=project, env=_env(cache),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert {o.strip() for o, _ in outs} == {"x,y"}
    entries = list((cache / "hypermetric" / "pipelines").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".tmp")
    assert imported_by(project, cache, "list") == []


def test_the_cache_stays_bounded(tmp_path, monkeypatch):
    from hypermetric.syntax import memo

    monkeypatch.setattr(memo, "_MOST", 4)
    keys = [str(i) * 64 for i in range(5)]
    for i, key in enumerate(keys):
        memo.write(str(tmp_path), key, i)
        os.utime(tmp_path / (key[:40] + ".pickle"), ns=(i * 10**9, i * 10**9))  # written in this order
    assert [memo.read(str(tmp_path), k) for k in keys] == [None, None, None, 3, 4]


def test_without_an_absolute_cache_place_nothing_is_written_here(project, tmp_path_factory):
    """A relative `$XDG_CACHE_HOME` is ignored (the XDG rule); with no home either, nothing is cached."""
    env = {"XDG_CACHE_HOME": "rel", "HOME": "rel-home"}
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "hypermetric", "get-path", "t[A: *]"], cwd=project,
                              env={**_env(project), **env}, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "A=y" in proc.stdout, proc.stderr
    assert sorted(p.name for p in project.iterdir()) == ["defs", "main.hm"]
