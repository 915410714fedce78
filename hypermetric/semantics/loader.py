"""Import resolution: finds imported files along the search path, parses each once, rejects cycles."""

from __future__ import annotations

import logging
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
LOG = logging.getLogger("hypermetric.load")


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
    """Search order for an import, HyperMake's: the current directory, `-I`/`-G` directories,
    `$HYPERMETRIC_PATH`, `$HYPERMAKE_PATH`, the bundled library; then, as a last resort, the importing
    file's own directory (HyperMake never looks there, so a pipeline that runs under HyperMake finds the
    same files here; one run from elsewhere still finds the modules beside it). Absolute paths as is.
    Each file loaded is logged to the `hypermetric.load` logger, which `-v` prints."""

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
            log_import(path, stmt, target)
            chain[-1] = (path, stmt)
            on_chain = [p for p, _ in chain]
            if target in on_chain:
                raise _import_cycle(chain[on_chain.index(target):], target)
            if target not in program.modules:
                self._visit(program, target, chain)
        chain.pop()

    def search_path(self, importer: str) -> list[str]:
        return [self.cwd, *self.dirs, os.path.dirname(importer)]

    def locate(self, stmt: ImportStmt, importer: str) -> str:
        """The absolute, normalised path an import statement names (first hit on the search path)."""
        what = _what(stmt)
        relative = (os.path.join(*stmt.module.split(".")) + ".hm" if isinstance(stmt, ast.ImportModule)
                    else stmt.path)
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


def log_import(importer: str, stmt: ImportStmt, target: str) -> None:
    """Say (to `-v`) which file an import statement loaded."""
    LOG.info("%s: %s loaded from %s", _where(importer, stmt), _what(stmt), target)


def _what(stmt: ImportStmt) -> str:
    return f"module `{stmt.module}`" if isinstance(stmt, ast.ImportModule) else f"file `{stmt.path}`"


def _where(path: str, stmt: ImportStmt) -> str:
    """`main.hm:3:1`: where the import is written (the importing file alone when the span is unknown)."""
    return stmt.span.location() if stmt.span is not None else path


def _import_cycle(chain: list[tuple[str, ImportStmt | None]], target: str) -> CycleError:
    names = [Path(p).name for p, _ in chain] + [Path(target).name]
    stmts = [s for _, s in chain if s is not None]
    spans = [s.span for s in stmts if s.span is not None]
    labels = [Label(span, "imported here") for span in spans[1:]]
    return CycleError(f"import cycle: {' -> '.join(names)}", spans[0] if spans else None, labels=labels)
