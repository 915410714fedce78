"""Layering and start-up hygiene: what the CLI imports, how fast it starts, where data files are found."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hypermetric"

# Allowed imports between layers (a layer may import itself and anything listed).
FOUNDATION = {"source", "errors", "diagnostic", "suggest", "percent", "resources", "__init__", "__main__"}
LAYERS = {
    "syntax": {"syntax"},
    "model": {"model"},
    "semantics": {"semantics", "syntax", "model"},
    "plan": {"plan", "semantics", "syntax", "model", "store"},
    "store": {"store", "plan", "model", "results"},
    "results": {"results", "store", "model"},
    "execution": {"execution", "store", "plan", "model", "results"},
    "runtime": {"runtime"},
    "metrics": {"metrics", "runtime"},
    "flow": {"flow", "runtime"},
    "batch": {"batch", "execution", "plan", "semantics", "syntax", "store", "model"},
    "report": {"report", "results", "store", "plan", "model"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hypermetric."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("hypermetric.")}
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layers_import_only_downwards(layer):
    allowed = LAYERS[layer] | FOUNDATION
    for path in (PACKAGE / layer).rglob("*.py"):
        bad = _imports(path) - allowed
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} (layer {layer} may use {sorted(allowed)})"


def test_only_syntax_imports_lark():
    for path in PACKAGE.rglob("*.py"):
        if "syntax" in path.parts:
            continue
        text = path.read_text()
        assert "import lark" not in text and "from lark" not in text, path


def test_cli_import_pulls_in_no_heavy_modules():
    code = ("import sys, hypermetric.cli.app, hypermetric.cli.options;"
            "print(sorted(m for m in ('ray', 'pyarrow', 'lark', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _cli_session(tmp_path, lines: str) -> None:
    """Runs `lines` in a fresh Python, in a project with a two-case task `t`, where `main` is the CLI."""
    (tmp_path / "main.hm").write_text("a = {A: x y}\ntask t(a=$) -> o:\n  echo $a > $o\n")
    code = "import sys; from hypermetric.cli.app import main\n" + lines
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_inspection_commands_never_import_ray(tmp_path):
    _cli_session(tmp_path,
                 "for args in (['list'], ['dry-run', 't[A: *]'], ['describe', 't'], ['get-path', 't'], ['graph']):\n"
                 "    assert main(args) == 0, args\n"
                 "assert 'ray' not in sys.modules and 'pyarrow' not in sys.modules, 'heavy import'\n")


def test_a_ray_run_with_nothing_to_do_never_imports_ray(tmp_path):
    _cli_session(tmp_path,
                 "assert main(['run', 't[A: *]', '--backend', 'local', '-s']) == 0\n"
                 "assert main(['run', 't[A: *]', '--backend', 'ray', '-s']) == 0\n"
                 "assert 'ray' not in sys.modules, 'Ray imported for a run with every job done'\n")
    assert (tmp_path / "out" / "t" / "A=y" / "o").read_text() == "y\n"


def test_help_starts_fast():
    """CPU time, not wall time, so that a busy machine does not fail the test."""
    import resource

    subprocess.run([sys.executable, "-m", "hypermetric", "--help"], capture_output=True, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "--help"], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode == 0 and "run" in proc.stdout
    assert cpu < 0.8, f"`hypermetric --help` used {cpu:.2f}s of CPU"


def test_version():
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("hypermetric ")


def test_data_folders_found_from_checkout():
    from hypermetric.resources import grammar_path, stdlib_dir

    assert grammar_path().is_file()
    assert (stdlib_dir() / "std.hm").is_file()


@pytest.mark.slow
def test_wheel_ships_grammar_and_stdlib(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0 and "hatchling" in proc.stderr:
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                               str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("hypermetric-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hypermetric/_data/grammar/hypermake.lark" in names
    assert "hypermetric/_data/stdlib/std.hm" in names
