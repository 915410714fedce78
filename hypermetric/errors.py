"""The error hierarchy: every user error carries diagnostics; each class maps to an exit code."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from hypermetric.diagnostic import Diagnostic, Label
from hypermetric.exitcode import ExitCode
from hypermetric.source import Span

EXIT_OK = ExitCode.OK
EXIT_JOB_FAILED = ExitCode.JOB_FAILED
EXIT_USER_ERROR = ExitCode.USER_ERROR
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


class HmError(Exception):
    """Root of every error hypermetric reports to a user."""

    exit_code = EXIT_USER_ERROR

    def __init__(self, message: str, span: Span | None = None, *, labels: Iterable[Label] = (),
                 notes: Iterable[str] = (), help: str | None = None,
                 diagnostics: Iterable[Diagnostic] | None = None) -> None:
        if diagnostics is not None:
            self.diagnostics = tuple(diagnostics)
        else:
            self.diagnostics = (Diagnostic(message, span, tuple(labels), tuple(notes), help),)
        super().__init__(self.diagnostics[0].message)

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]


class ParseError(HmError):
    """Syntax errors in `.hm` files and command-line targets."""


class ResolutionError(HmError):
    """Undefined or ambiguous names, bad imports, redefinitions."""


class AxisError(HmError):
    """Misaligned axes, unknown axes or keys."""


class TargetError(HmError):
    """Command-line targets that name nothing, or bad indices on them."""


class CycleError(HmError):
    """Reference or dependency cycles, and import cycles."""


class UsageError(HmError):
    """Bad command-line usage: options, missing files, confirmation needed."""


class StoreError(HmError):
    """The output root or a job directory cannot be read or written as required: an ordinary fault of the
    environment (read-only or full file system, no permission), so a user error rather than a bug."""


class FileSystemError(HmError):
    """A file-system object's operation failed."""

    exit_code = EXIT_JOB_FAILED


class InternalError(Exception):
    """A bug in hypermetric, never a user error."""


_ROOT_HINT = "or choose another output root with --root (or `local.root` in the file)"
_ENVIRONMENT_HINTS = {
    errno.EROFS: f"the file system is mounted read-only; remount it writable, {_ROOT_HINT}",
    errno.ENOSPC: f"the file system is full; free some space, {_ROOT_HINT}",
    errno.EDQUOT: f"your disk quota is used up; free some space, {_ROOT_HINT}",
    errno.EACCES: f"check the permissions of the directories on that path, {_ROOT_HINT}",
    errno.EPERM: f"check the permissions and attributes of that path, {_ROOT_HINT}",
    errno.ENOTDIR: f"every directory on that path must be a directory, not a file; {_ROOT_HINT}",
    errno.EISDIR: "a directory stands where a file is needed; move it away",
    errno.ENAMETOOLONG: f"the path is longer than the file system allows; {_ROOT_HINT}",
    errno.EIO: "the storage reported an input/output error; check the disk or the network mount",
    errno.EMFILE: "too many files are open in this process; raise the limit (`ulimit -n`) or use fewer -j",
    errno.ENFILE: "the system has too many open files; close some programs or use fewer -j",
}


def environment_error(exc: OSError) -> StoreError | None:
    """The user error for an `OSError` that the environment causes (a read-only or full file system, missing
    permissions, a file where a directory should be), naming the path; None for any other `OSError`, which
    then remains a bug."""
    code = exc.errno
    hint = _ENVIRONMENT_HINTS.get(code) if code is not None else None
    if hint is None or code is None:
        return None
    reason = (exc.strerror or os.strerror(code)).lower()
    path = exc.filename
    if path is None:
        return StoreError(reason, help=hint)
    path = os.fsdecode(path)
    if exc.errno == errno.ENOTDIR:
        blocker = _first_non_directory(path)
        if blocker is not None and blocker != path:
            return StoreError(f"`{blocker}` is not a directory (needed for `{path}`)", help=hint)
    return StoreError(f"{reason}: `{path}`", help=hint)


@contextmanager
def about_path(path: str) -> Iterator[None]:
    """Name `path` in any `OSError` raised inside the block that names no file: a failed `write` or `close`
    (a full disk) only says "no space left", and the user needs to know where."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = path
        raise


def _first_non_directory(path: str) -> str | None:
    """The first existing ancestor of `path` (itself included) that is not a directory."""
    current = os.path.abspath(path)
    chain = []
    while True:
        chain.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for candidate in reversed(chain):
        if os.path.lexists(candidate) and not os.path.isdir(candidate):
            return candidate
    return None
