"""The syntax layer: `.hm` text to AST (`parse`), command-line targets (`parse_target`), and back (`print_module`).

Lark never leaks out of this package: its exceptions become `ParseError`s with spans.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from hypermetric.errors import ParseError
from hypermetric.source import SourceFile
from hypermetric.syntax.refs import TaskRef

if TYPE_CHECKING:  # `ast` is imported where a file is parsed or its tree read: see `refs`
    from hypermetric.syntax import ast


def parse(source: SourceFile) -> ast.Module:
    """Parse one `.hm` file."""
    return _parse(source, "start")


def parse_text(text: str, path: str = "<string>") -> ast.Module:
    return parse(SourceFile.from_text(text, path))


def check_text(source: SourceFile) -> None:
    """Raise a located `ParseError` if `source` holds text no script could receive (bytes that are not
    UTF-8, NUL, lone surrogates); `parse` does this first, and text taken as it is must do it too."""
    from hypermetric.syntax.lexer import check_characters

    check_characters(source)


def parse_target(text: str, path: str = "<target>") -> TaskRef:
    """Parse a target such as `evaluate[Dataset: *, Model: bm25]`.

    A command names its targets on every call, and Lark alone takes longer to import than the rest of a
    command with nothing to do, so each target text parsed once is kept in the user's cache (`memo`)."""
    from hypermetric.syntax import memo

    directory = memo.cache_dir("targets")
    key = memo.digest("target", text, path, memo.code_fingerprint("syntax"))
    found = memo.read(directory, key)
    if isinstance(found, TaskRef):
        return found
    ref = _parse(SourceFile.from_text(text, path), "target")
    memo.write(directory, key, ref)
    return ref


def _parse(source: SourceFile, start: str):
    from lark.exceptions import UnexpectedInput, VisitError

    from hypermetric.syntax.grammar import parser
    from hypermetric.syntax.lark_errors import convert
    from hypermetric.syntax.transformer import ToAst

    lark_parser = parser()
    collecting = gc.isenabled()
    gc.disable()  # parsing allocates many small objects that never form cycles; the collector only slows it
    try:
        tree = lark_parser.parse(source, start=start)
        return ToAst(source)(tree)
    except UnexpectedInput as exc:
        raise convert(exc, source) from None
    except VisitError as exc:  # pragma: no cover - only if a transformer is embedded
        if isinstance(exc.orig_exc, ParseError):
            raise exc.orig_exc from None
        raise
    finally:
        if collecting:
            gc.enable()


def print_module(module: ast.Module) -> str:
    from hypermetric.syntax.printer import print_module as _print

    return _print(module)


__all__ = ["ast", "check_text", "parse", "parse_text", "parse_target", "print_module", "ParseError"]
