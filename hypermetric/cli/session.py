"""Loading and planning for a command: from the shared options to a `Pipeline` and a `JobGraph`."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from hypermetric.cli.options import Common
from hypermetric.errors import UsageError


@dataclass
class Session:
    common: Common
    file: str
    targets: list[str]
    pipeline: object

    def plan(self, targets: list[str] | None = None, *, required: bool = True):
        from hypermetric import api

        chosen = self.targets if targets is None else targets
        if required and not chosen and not hasattr(self.pipeline, "entries"):  # a batch: all its jobs
            raise UsageError("no target given", help="name a task or plan, e.g. `hypermetric run FILE.hm t`")
        return api.plan(self.pipeline, chosen, root_override=self.common.root)

    def shell_words(self) -> tuple[str, ...]:
        words = tuple(shlex.split(self.common.shell))
        if not words:
            raise UsageError("empty shell", help="use -S 'bash -e'")
        return words


def open_session(common: Common) -> Session:
    from hypermetric import api

    file, targets = common.split()
    pipeline = api.load(file, includes=common.includes, defines=common.define_map(), cwd=os.getcwd())
    return Session(common, file, targets, pipeline)
