"""Why an output file gives no records: the errors the readers raise, which `results` turns into row statuses."""

from __future__ import annotations

import os

from hypermetric.errors import StoreError


class ResultReadError(StoreError):
    """An output file that cannot be read as results."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot read results from `{self.path}`: {reason}")


class MissingResultError(ResultReadError):
    """The output file does not exist."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, "no such file")
