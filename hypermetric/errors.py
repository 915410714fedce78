"""The error hierarchy: every user error carries diagnostics; each class maps to an exit code."""

from __future__ import annotations

from collections.abc import Iterable

from hypermetric.diagnostic import Diagnostic, Label
from hypermetric.source import Span

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


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
    """The output root or a job directory cannot be read or written as required."""

    exit_code = EXIT_JOB_FAILED


class FileSystemError(HmError):
    """A file-system object's operation failed."""

    exit_code = EXIT_JOB_FAILED


class InternalError(Exception):
    """A bug in hypermetric, never a user error."""
