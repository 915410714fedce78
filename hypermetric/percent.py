"""Percent encoding of case keys for directory names, byte-compatible with Java's URLEncoder (HyperMake)."""

from __future__ import annotations

from collections.abc import Callable

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_")
_TABLE = [chr(b) if b in _SAFE else ("+" if b == 0x20 else f"%{b:02X}") for b in range(256)]


def encode(text: str) -> str:
    """Form-encode `text` as UTF-8: `A-Z a-z 0-9 . - * _` kept, space -> `+`, other bytes -> `%XX`.

    The standard library's `quote_plus` keeps `~` and escapes `*`, the reverse of Java, so it cannot be used."""
    if text.isascii() and all(ord(c) in _SAFE for c in text):
        return text
    return "".join(_TABLE[b] for b in text.encode("utf-8"))


def decode(text: str) -> str:
    """Inverse of `encode`: `+` is a space, `%XX` a byte, bytes read as UTF-8 (invalid ones replaced)."""
    global _unquote_plus
    if "%" not in text and "+" not in text:  # nothing encoded (most keys): no need to import urllib
        return text
    if _unquote_plus is None:
        from urllib.parse import unquote_plus

        _unquote_plus = unquote_plus
    return _unquote_plus(text)


_unquote_plus: Callable[[str], str] | None = None  # urllib's, once a key needs it
