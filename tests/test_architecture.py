"""Layering and start-up hygiene: the import graph (layers, no cycles, where heavy or UI libraries may be
imported), module size, what the CLI imports, how fast it starts, where data files are found."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hypermetric"

# The foundation: top-level modules that import only each other and the standard library.
FOUNDATION = ("record", "source", "diagnostic", "errors", "exitcode", "suggest", "percent", "resources", "process_wide",
              "hashing")
# The layers from the bottom up: a module may import its own layer, the foundation and the layers before its
# own, never one after it. `hypermetric/__init__.py` (the version, and lazy access to the runtime) counts as
# foundation; `__main__` sits on top of the CLI.
ORDER = ("foundation", "syntax", "model", "semantics", "plan", "store", "results", "execution", "batch",
         "report", "api", "cli", "__main__")
# The Python evaluation runtime and what is built on it stand beside the pipeline layers: they import the
# foundation and each other in this order, and no pipeline layer imports them.
SIDE = ("runtime", "metrics", "flow")
# Import cycles that engineers are still breaking; each entry is the set of modules of one cycle. The test
# fails on any other cycle, and on an entry that no longer exists, so this list only ever shrinks to empty.
KNOWN_CYCLES: list[frozenset[str]] = []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imported(path: Path, name: str) -> set[str]:
    """The hypermetric modules `path` imports anywhere (at the top, in functions, under TYPE_CHECKING): a
    lazy import is still a dependency, only a cheaper one."""
    modules = _modules()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            if base != "hypermetric" and not base.startswith("hypermetric."):
                continue
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else _owner(base))
        elif isinstance(node, ast.Import):
            found |= {_owner(a.name) for a in node.names if a.name.split(".")[0] == "hypermetric"}
    return found - {name}


def _owner(dotted: str) -> str:
    """The module that defines `dotted` (a module, or a name inside one)."""
    modules = _modules()
    while dotted not in modules and "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
    return dotted


@cache
def import_graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(_imported(path, name)) for name, path in _modules().items()}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FOUNDATION:
        return "foundation"
    return parts[1]


def test_every_module_belongs_to_a_layer():
    unknown = sorted(m for m in _modules() if layer_of(m) not in ORDER + SIDE)
    assert not unknown, f"modules outside every layer (add them to ORDER, SIDE or FOUNDATION): {unknown}"


def _allowed(layer: str) -> set[str]:
    if layer in SIDE:
        return {"foundation", *SIDE[:SIDE.index(layer) + 1]}
    return set(ORDER[:ORDER.index(layer) + 1])


@pytest.mark.parametrize("layer", ORDER + SIDE)
def test_layers_import_only_downwards(layer):
    allowed = _allowed(layer)
    for module, imports in sorted(import_graph().items()):
        if layer_of(module) != layer:
            continue
        bad = sorted(d for d in imports if layer_of(d) not in allowed)
        assert not bad, f"{module} ({layer}) imports {bad}; the layer may use {sorted(allowed)}"


def test_cli_commands_reach_the_product_only_through_the_api():
    """A command parses, calls `hypermetric.api`, and prints: whatever it does is there for Python users
    too. The rest of `cli/` (progress views, renderers) may read the lower layers' types."""
    for module, imports in sorted(import_graph().items()):
        if module.startswith("hypermetric.cli.commands."):
            bad = sorted(d for d in imports if layer_of(d) not in ("foundation", "api", "cli"))
            assert not bad, f"{module} imports {bad}; route it through hypermetric.api"


def _cycles(graph: dict[str, frozenset[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def test_cycle_finder_finds_a_cycle_and_only_it():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert _cycles(graph) == [frozenset({"a", "b", "c"})]
    assert _cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_no_import_cycles_between_modules():
    cycles = _cycles(import_graph())
    new = [sorted(c) for c in cycles if not any(c <= known for known in KNOWN_CYCLES)]
    assert not new, f"import cycles: {new}"
    gone = [sorted(k) for k in KNOWN_CYCLES if not any(c & k for c in cycles)]
    assert not gone, f"these cycles are gone; remove them from KNOWN_CYCLES: {gone}"


def test_no_module_exceeds_300_lines():
    long = sorted((len(p.read_text().splitlines()), str(p.relative_to(ROOT))) for p in PACKAGE.rglob("*.py"))
    assert all(n <= 300 for n, _ in long), [f"{path}: {n} lines" for n, path in long if n > 300]


def _third_party(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found


@pytest.mark.parametrize(("library", "home"), [("lark", "syntax"), ("rich", "cli"), ("typer", "cli"),
                                               ("click", "cli")])
def test_libraries_stay_in_their_layer(library, home):
    outside = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                     if home not in p.relative_to(PACKAGE).parts[:1] and library in _third_party(p))
    assert not outside, f"`{library}` is imported outside {home}/: {outside}"


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
