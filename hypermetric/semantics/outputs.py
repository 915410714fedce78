"""Output file names: each one a path relative to its job's directory that stays inside it and does not take
a name the job protocol writes itself. Checked for every value an output name can take, when the pipeline
loads, so nothing is ever written outside the output root (and `remove` deletes all that a job wrote)."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from hypermetric.diagnostic import Label
from hypermetric.errors import ResolutionError
from hypermetric.semantics.model.tensors import Const, walk
from hypermetric.semantics.model.values import Pure

if TYPE_CHECKING:
    from hypermetric.semantics.model.tensors import Node
    from hypermetric.source import Span

RESERVED = frozenset({"script", "args", "stdout", "stderr", "exitcode", "job.json", ".lock"})
_SCRIPT_N = re.compile(r"script\.\d+")
_HINT = "an output names a file relative to the job directory, such as `out` or `sub/out.txt`"


def is_reserved(name: str) -> bool:
    """Names of the files hypermetric keeps in a job directory."""
    return name in RESERVED or _SCRIPT_N.fullmatch(name) is not None


def check_output_files(output: str, node: Node, span: Span | None) -> None:
    """Every file name output `output` can take (each plain-string leaf of its tensor) is a relative path
    inside the job directory that names no file of the job protocol; `span` is the output's declaration."""
    for leaf in walk(node):
        if isinstance(leaf, Const) and isinstance(leaf.value, Pure):
            problem = _problem(leaf.value.text)
            if problem is not None:
                labels = ([Label(span, f"the file of output `{output}`")]
                          if span is not None and not _within(leaf.span, span) else [])
                raise ResolutionError(f"output file `{leaf.value.text}` {problem}", leaf.span or span,
                                      labels=labels, help=_HINT)


def _problem(text: str) -> str | None:
    if text.startswith("/"):
        return "is an absolute path: outputs must be inside the job directory"
    normal = posixpath.normpath(text) if text else "."
    if normal == ".":
        return "does not name a file inside the job directory"
    if normal == ".." or normal.startswith("../"):
        return "is outside the job directory"
    if is_reserved(normal):
        return "is reserved for the job directory and cannot be an output"
    return None


def _within(inner: Span | None, outer: Span | None) -> bool:
    """Whether `inner` lies in `outer` (then pointing at `outer` as well would say nothing new)."""
    if outer is None:
        return True
    return (inner is not None and inner.file is outer.file and outer.start <= inner.start
            and inner.end <= outer.end)
