"""Inline-command dicts (`{A: \\`cmd\\`}`): keys from the output of `bash -c cmd` in the cwd.

The output is split on whitespace and each raw token is a key; a failing command is an error rather than an
axis without keys, since a typo in the command would otherwise silently shrink the sweep.
"""

from __future__ import annotations

import subprocess

from hypermetric.errors import AxisError
from hypermetric.syntax import ast

_KEYS_HELP = "the command must print the keys as UTF-8 text, separated by white space"


class InlineCommands:
    """Runs each distinct command once per analysis and remembers its keys."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self._cache: dict[str, tuple[str, ...]] = {}

    def keys(self, lit: ast.DictLit) -> tuple[str, ...]:
        command = lit.command or ""
        if command not in self._cache:
            self._cache[command] = self._run(command, lit)
        return self._cache[command]

    def _run(self, command: str, lit: ast.DictLit) -> tuple[str, ...]:
        try:
            done = subprocess.run(["bash", "-c", command], cwd=self.cwd, capture_output=True, check=False)
        except OSError as exc:
            raise AxisError(f"cannot run the inline command of axis `{lit.axis}`: {exc}", lit.span) from exc
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise AxisError(f"the inline command of axis `{lit.axis}` failed with exit code "
                            f"{done.returncode}", lit.span, notes=tail)
        try:
            text = done.stdout.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AxisError(f"the inline command of axis `{lit.axis}` printed bytes that are not UTF-8 "
                            f"(byte 0x{done.stdout[e.start]:02X})", lit.span, help=_KEYS_HELP) from None
        if "\0" in text:  # a key reaches scripts as a C string, which would end at the NUL
            raise AxisError(f"the inline command of axis `{lit.axis}` printed a NUL character", lit.span,
                            help=_KEYS_HELP)
        tokens = tuple(dict.fromkeys(text.split()))
        if not tokens:
            raise AxisError(f"the inline command of axis `{lit.axis}` printed no keys", lit.span)
        return tokens
