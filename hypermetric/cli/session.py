"""Loading and planning for a command: from the shared options to a `Pipeline` and a `JobGraph`."""

from __future__ import annotations

import os
import shlex

from hypermetric import api
from hypermetric.cli.options import Common
from hypermetric.errors import UsageError
from hypermetric.process_wide import collector_paused, freeze_built


class Session:
    """A command's loaded pipeline, with the options and targets it was loaded for."""

    def __init__(self, common: Common, file: str, targets: list[str], pipeline: api.Pipeline) -> None:
        self.common = common
        self.file = file
        self.targets = targets
        self.pipeline = pipeline

    def plan(self, targets: list[str] | None = None, *, required: bool = True) -> api.JobGraph:
        chosen = self.targets if targets is None else targets
        if required:
            self.require_targets(chosen)
        return api.plan(self.pipeline, chosen)

    def require_targets(self, targets: list[str] | None = None) -> None:
        """A user error when no target is given (a batch needs none: its targets are all its jobs)."""
        if not (self.targets if targets is None else targets) and not api.is_batch(self.pipeline):
            raise UsageError("no target given", help="name a task or plan, e.g. `hypermetric run FILE.hm t`")

    def shell_words(self) -> tuple[str, ...]:
        words = tuple(shlex.split(self.common.shell))
        if not words:
            raise UsageError("empty shell", help="use -S 'bash -e'")
        return words


def open_session(common: Common) -> Session:
    """The pipeline the options name, loaded with their `-I`, `-D` and `--root`, and the targets."""
    file, targets = common.split()
    with collector_paused():  # the model's modules and a cached pipeline: many objects, few if any cycles
        pipeline = api.load(file, includes=common.includes, defines=common.define_map(), cwd=os.getcwd(),
                            root=common.root)
        freeze_built()  # the pipeline lives until the command ends: the collector need not walk it again
    return Session(common, file, targets, pipeline)
