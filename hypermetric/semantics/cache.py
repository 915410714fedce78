"""Checked pipelines kept on disk, so that a command on an unchanged pipeline neither parses nor analyses it.

Parsing needs Lark and its grammar, and analysis walks every definition: together most of the start-up of
a command whose jobs are all done. An entry lives in `$XDG_CACHE_HOME/hypermetric/pipelines/` (else
`~/.cache/...`), one file per request: the main file, the invocation directory, the import search path (`-I`,
`-G`, `$HYPERMETRIC_PATH`, `$HYPERMAKE_PATH`, the bundled library), the `-D` values, the hypermetric version
and a fingerprint of the code that builds the model. Inside it are the content hash of every file that was
parsed and every import's resolution; an entry is used only when each file still has that content and each
import still finds the same file, so an edit anywhere, or a new file that shadows an import, is seen.

Pipelines whose keys come from inline commands (`{A: \\`cmd\\`}`) are never kept: the command's output
may change while no file does. Entries are written to a temporary file and renamed into place, so two
processes writing at once leave one whole entry; an entry that cannot be read (corrupt, truncated, written by
another version) is ignored and replaced. Failing to read or write the cache never fails a command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hypermetric.errors import HmError
from hypermetric.record import Record, setfield
from hypermetric.semantics.loader import LoadedProgram, Loader, described_import, import_file, log_loaded
from hypermetric.semantics.model.pipeline import Pipeline
from hypermetric.source import SourceFile, Span
from hypermetric.syntax import memo

if TYPE_CHECKING:  # a pipeline read back from the cache needs no syntax tree
    from hypermetric.syntax import ast

# Bumped when the layout of an entry changes.
FORMAT = 2
# The subpackages whose code decides what a file parses and analyses to.
_MODEL_CODE = ("syntax", "model", "semantics", "plan")

# (importing file, where the statement is, what it imports, the file it names, the file it found): plain text,
# so that reading an entry back makes no syntax tree.
Imports = tuple[tuple[str, str, str, str, str], ...]


class Entry(Record):
    """One cached pipeline and what it was made from."""

    __slots__ = ("files", "imports", "pipeline")
    files: tuple[tuple[str, str], ...]  # (path, digest of the text parsed)
    imports: Imports
    pipeline: Pipeline

    def __init__(self, files: tuple[tuple[str, str], ...], imports: Imports, pipeline: Pipeline) -> None:
        setfield(self, "files", files)
        setfield(self, "imports", imports)
        setfield(self, "pipeline", pipeline)


class PipelineCache:
    """The entries under one directory; `get` and `put` never raise."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory

    @classmethod
    def for_user(cls) -> PipelineCache:
        return cls(memo.cache_dir("pipelines"))

    @staticmethod
    def key(main: str, loader: Loader, defines: Mapping[str, str]) -> str:
        """Names a request: the file, where it is loaded from, how imports are searched, the `-D` values."""
        return memo.digest(FORMAT, memo.code_fingerprint(*_MODEL_CODE), main, loader.cwd, tuple(loader.dirs),
                           tuple(sorted(defines.items())))

    def get(self, key: str, loader: Loader) -> Pipeline | None:
        """The cached pipeline of `key` when every file it was made from is unchanged, else None."""
        entry = memo.read(self.directory, key)
        if not isinstance(entry, Entry) or not isinstance(entry.pipeline, Pipeline):
            return None
        if not _files_unchanged(entry.files) or not _imports_unchanged(entry.imports, loader):
            return None
        for _, where, what, _, target in entry.imports:
            log_loaded(where, what, target)
        return entry.pipeline

    def put(self, key: str, program: LoadedProgram, parsed: Mapping[str, str], pipeline: Pipeline,
            defines: Mapping[str, str]) -> None:
        """Keep `pipeline`, made from `program` whose files had the text hashes `parsed`."""
        if not cacheable(program, defines):
            return
        imports = tuple((importer, *described_import(importer, stmt), import_file(stmt), target)
                        for (importer, stmt), target in program.imports.items())
        memo.write(self.directory, key, Entry(tuple(sorted(parsed.items())), imports, pipeline))


class HashingParser:
    """The parser the loader calls, recording the hash of exactly the text it parsed, file by file."""

    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}

    def __call__(self, source: SourceFile) -> ast.Module:
        from hypermetric.syntax import parse

        self.hashes[os.path.normpath(source.path)] = text_hash(source.text)
        return parse(source)


def text_hash(text: str) -> str:
    return memo.text_digest(text)


def cacheable(program: LoadedProgram, defines: Mapping[str, str]) -> bool:
    """False when an inline command decided some keys (in a file or a `-D` value)."""
    if any("`" in value for value in defines.values()):
        return False
    return not any(_has_inline_command(module) for module in program.modules.values())


def _has_inline_command(module: ast.Module) -> bool:
    import dataclasses

    from hypermetric.syntax import ast

    if module.span is not None and "`" not in module.span.file.text:
        return False
    stack: list[object] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.DictLit) and node.command is not None:
            return True
        if isinstance(node, (tuple, list)):
            stack.extend(node)
        elif dataclasses.is_dataclass(node) and not isinstance(node, (type, Span)):
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))
    return False


def _files_unchanged(files: tuple[tuple[str, str], ...]) -> bool:
    try:
        return all(text_hash(SourceFile.read(path).text) == digest for path, digest in files)
    except OSError:
        return False


def _imports_unchanged(imports: Imports, loader: Loader) -> bool:
    try:
        return all(loader.find(relative, importer) == target for importer, _, _, relative, target in imports)
    except HmError:
        return False
