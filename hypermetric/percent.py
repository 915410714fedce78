"""Percent encoding of case keys for directory names, byte-compatible with Java's URLEncoder (HyperMake)."""

from __future__ import annotations

import hashlib

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_")
_TABLE = [chr(b) if b in _SAFE else ("+" if b == 0x20 else f"%{b:02X}") for b in range(256)]


def encode(text: str) -> str:
    """Form-encode `text` as UTF-8: `A-Z a-z 0-9 . - * _` kept, space -> `+`, other bytes -> `%XX`."""
    if text.isascii() and all(ord(c) in _SAFE for c in text):
        return text
    return "".join(_TABLE[b] for b in text.encode("utf-8"))


def decode(text: str) -> str:
    """Inverse of `encode` (`+` is a space, `%XX` a byte)."""
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "+":
            out.append(0x20)
        elif c == "%" and i + 2 < n + 0 and _is_hex(text[i + 1:i + 3]):
            out.append(int(text[i + 1:i + 3], 16))
            i += 2
        else:
            out.extend(c.encode("utf-8"))
        i += 1
    return out.decode("utf-8", errors="replace")


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def shorten(name: str, max_length: int = 255) -> str:
    """The name itself, or its MD5 hex digest when its UTF-8 form is longer than `max_length` bytes."""
    data = name.encode("utf-8")
    return hashlib.md5(data).hexdigest() if len(data) > max_length else name
