"""Import resolution: finds imported files along the search path (D36), parses each once, rejects cycles."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hypermetric.diagnostic import Label
from hypermetric.errors import CycleError, ResolutionError, UsageError
from hypermetric.resources import stdlib_dir
from hypermetric.source import SourceFile
from hypermetric.syntax import ast

Parse = Callable[[SourceFile], ast.Module]
ImportStmt = ast.ImportFile | ast.ImportModule


@dataclass
class LoadedProgram:
    """Every file reachable from the main one, parsed once, and the file each import statement names."""

    main: str
    modules: dict[str, ast.Module] = field(default_factory=dict)
    imports: dict[tuple[str, ImportStmt], str] = field(default_factory=dict)

    def target(self, importer: str, stmt: ImportStmt) -> str:
        return self.imports[(importer, stmt)]


def _default_parse(source: SourceFile) -> ast.Module:
    from hypermetric.syntax import parse

    return parse(source)


class Loader:
    """Search order for an import (D36): the importing file's directory, the current directory, `-I`
    directories, `$HYPERMETRIC_PATH`, `$HYPERMAKE_PATH`, then the bundled library; absolute paths as is."""

    def __init__(self, *, includes: Iterable[str] = (), cwd: str | None = None,
                 env: Mapping[str, str] | None = None, parse: Parse | None = None) -> None:
        self.cwd = os.path.abspath(cwd or os.getcwd())
        env = os.environ if env is None else env
        self.dirs = [os.path.join(self.cwd, d) for d in includes]
        for var in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH"):
            self.dirs.extend(os.path.join(self.cwd, d) for d in env.get(var, "").split(os.pathsep) if d)
        try:
            self.dirs.append(str(stdlib_dir()))
        except FileNotFoundError:
            pass
        self.parse = parse or _default_parse

    def load(self, main: str) -> LoadedProgram:
        path = os.path.normpath(os.path.join(self.cwd, main))
        if not os.path.isfile(path):
            raise UsageError(f"pipeline file `{main}` does not exist")
        program = LoadedProgram(path)
        self._visit(program, path, [])
        return program

    def _visit(self, program: LoadedProgram, path: str, chain: list[tuple[str, ImportStmt | None]]) -> None:
        module = self.parse(SourceFile.read(path))
        program.modules[path] = module
        chain.append((path, None))
        for stmt in module.statements:
            if not isinstance(stmt, (ast.ImportFile, ast.ImportModule)):
                continue
            target = self.locate(stmt, path)
            program.imports[(path, stmt)] = target
            chain[-1] = (path, stmt)
            on_chain = [p for p, _ in chain]
            if target in on_chain:
                raise _import_cycle(chain[on_chain.index(target):], target)
            if target not in program.modules:
                self._visit(program, target, chain)
        chain.pop()

    def search_path(self, importer: str) -> list[str]:
        return [os.path.dirname(importer), self.cwd, *self.dirs]

    def locate(self, stmt: ImportStmt, importer: str) -> str:
        """The absolute, normalised path an import statement names (first hit on the search path)."""
        if isinstance(stmt, ast.ImportModule):
            relative, what = os.path.join(*stmt.module.split(".")) + ".hm", f"module `{stmt.module}`"
        else:
            relative, what = stmt.path, f"file `{stmt.path}`"
        if os.path.isabs(relative):
            if os.path.isfile(relative):
                return os.path.normpath(relative)
            raise ResolutionError(f"cannot find {what}", stmt.span)
        searched = []
        for directory in self.search_path(importer):
            candidate = os.path.normpath(os.path.join(directory, relative))
            if os.path.isfile(candidate):
                return candidate
            searched.append(directory)
        raise ResolutionError(f"cannot find {what}", stmt.span,
                              notes=[f"looked for `{relative}` in " + ", ".join(dict.fromkeys(searched))])


def _import_cycle(chain: list[tuple[str, ImportStmt | None]], target: str) -> CycleError:
    names = [Path(p).name for p, _ in chain] + [Path(target).name]
    stmts = [s for _, s in chain if s is not None]
    spans = [s.span for s in stmts if s.span is not None]
    labels = [Label(span, "imported here") for span in spans[1:]]
    return CycleError(f"import cycle: {' -> '.join(names)}", spans[0] if spans else None, labels=labels)
