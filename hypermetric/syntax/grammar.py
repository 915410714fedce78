"""Builds the one Lark LALR parser for `.hm` files and command-line targets (the only module importing lark)."""

from __future__ import annotations

from functools import cache

from lark import Lark

from hypermetric.resources import grammar_path
from hypermetric.syntax.lexer import HmLexer


@cache
def parser() -> Lark:
    """The parser, built once per process; Lark caches the LALR tables on disk between processes."""
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer=HmLexer,
        start=["start", "target"],
        maybe_placeholders=True,
        cache=_cache_file(),
    )


def _cache_file() -> str | bool:
    import hashlib
    import os
    import tempfile

    from hypermetric import __version__

    digest = hashlib.md5(grammar_path().read_bytes() + __version__.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative value is ignored, never a folder in the cwd
        base = tempfile.gettempdir()
    folder = os.path.join(base, f"hypermetric-{os.getuid()}")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.path.join(folder, f"grammar-{digest}.lark.cache")
