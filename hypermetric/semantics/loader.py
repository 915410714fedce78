"""Import resolution: finds imported files along the search path, parses each once, rejects cycles."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from hypermetric.diagnostic import Label
from hypermetric.errors import CycleError, ResolutionError, UsageError
from hypermetric.resources import stdlib_folder
from hypermetric.source import SourceFile

if TYPE_CHECKING:  # the syntax tree is imported where files are parsed: a cached pipeline needs none of it
    from hypermetric.source import Span
    from hypermetric.syntax import ast

    ImportStmt = ast.ImportFile | ast.ImportModule

Parse = Callable[[SourceFile], "ast.Module"]


class LoadedProgram:
    """Every file reachable from the main one, parsed once, and the file each import statement names."""

    def __init__(self, main: str, modules: dict[str, ast.Module] | None = None,
                 imports: dict[tuple[str, ImportStmt], str] | None = None) -> None:
        self.main = main
        self.modules: dict[str, ast.Module] = {} if modules is None else modules
        self.imports: dict[tuple[str, ImportStmt], str] = {} if imports is None else imports

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
            self.dirs.append(stdlib_folder())
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
        from hypermetric.syntax import ast

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
        return self.find(import_file(stmt), importer, _what(stmt), stmt.span)

    def find(self, relative: str, importer: str, what: str = "", span: Span | None = None) -> str:
        """Where the search path of `importer` finds `relative` (`import_file` of a statement); `what` and
        `span` say, if it is nowhere, what the statement was and where it is written."""
        if os.path.isabs(relative):
            if os.path.isfile(relative):
                return os.path.normpath(relative)
            raise ResolutionError(f"cannot find {what}", span)
        searched = []
        for directory in self.search_path(importer):
            candidate = os.path.normpath(os.path.join(directory, relative))
            if os.path.isfile(candidate):
                return candidate
            searched.append(directory)
        raise ResolutionError(f"cannot find {what}", span,
                              notes=[f"looked for `{relative}` in " + ", ".join(dict.fromkeys(searched))])


def import_file(stmt: ImportStmt) -> str:
    """The file an import statement names, before the search path: `a/b.hm` for `import a.b`."""
    from hypermetric.syntax import ast

    return os.path.join(*stmt.module.split(".")) + ".hm" if isinstance(stmt, ast.ImportModule) else stmt.path


def described_import(importer: str, stmt: ImportStmt) -> tuple[str, str]:
    """(where the statement is written, what it imports), as `-v` says them: `main.hm:3:1`, ``file `x.hm` ``."""
    return _where(importer, stmt), _what(stmt)


def log_import(importer: str, stmt: ImportStmt, target: str) -> None:
    """Say (to `-v`) which file an import statement loaded."""
    log_loaded(*described_import(importer, stmt), target)


def log_loaded(where: str, what: str, target: str) -> None:
    """An INFO record of the `hypermetric.load` logger. Until something imports `logging` nothing can listen
    to that logger or have set it up, and the record would go nowhere: `logging` is not imported for it."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("hypermetric.load").info("%s: %s loaded from %s", where, what, target)


def _what(stmt: ImportStmt) -> str:
    from hypermetric.syntax import ast

    return f"module `{stmt.module}`" if isinstance(stmt, ast.ImportModule) else f"file `{stmt.path}`"


def _where(path: str, stmt: ImportStmt) -> str:
    """`main.hm:3:1`: where the import is written (the importing file alone when the span is unknown)."""
    return stmt.span.location() if stmt.span is not None else path


def _import_cycle(chain: list[tuple[str, ImportStmt | None]], target: str) -> CycleError:
    names = [os.path.basename(p) for p, _ in chain] + [os.path.basename(target)]  # normalised file paths
    stmts = [s for _, s in chain if s is not None]
    spans = [s.span for s in stmts if s.span is not None]
    labels = [Label(span, "imported here") for span in spans[1:]]
    return CycleError(f"import cycle: {' -> '.join(names)}", spans[0] if spans else None, labels=labels)
