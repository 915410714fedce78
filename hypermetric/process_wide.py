"""Every change hypermetric's library code makes to settings shared by the whole process, in one list.

A library that changes process-wide state surprises the program that imported it, so each change below is
made only inside the scope that needs it (a context manager) and undone when the scope ends, whatever way it
ends. The processes hypermetric starts for itself (the runtime's Ray workers and evaluators) are the one
exception: they run nothing but hypermetric, so they keep a setting for their whole life.

1. The cyclic garbage collector switched off (`gc.disable`) while a file is parsed (`syntax.parse`), while
   the planner builds jobs (`plan.planner`), and while the command line imports its parser and command
   (`cli.app`), loads the pipeline (`cli.session`) and, for `dry-run`, lists the jobs with their status
   (`cli.commands.inspect`): each allocates many small objects that never (or hardly ever) form cycles, and
   the collector's passes over them only slow the work down.
   `collector_paused()` here; switched back on after unless the caller had it off.
2. Objects left out of the collector's passes (`gc.freeze`), undone with `gc.unfreeze` when the scope ends,
   and never when the caller had frozen objects itself (that freeze is theirs):
   - while the runtime drives a run (`runtime.session`, `older_objects_frozen()`): the run allocates steadily,
     and each full collection would otherwise walk the caller's whole heap, stalling the workers;
   - after planning, inside `command_scope()` only (the command line wraps each command in it): the job
     graph lives until the command ends and holds no cycles, and left in the collector's passes it is walked
     again and again (a dry run of 100,000 jobs took 6.2 s instead of 5.0 s). A program calling the planner
     directly gets no freeze unless it opens `command_scope()` itself. The command line also freezes, in
     the same scope, what its start-up made (`cli.app`: the parser, the command's modules) and the loaded
     pipeline (`cli.session`): each lives until the command ends, and the first pass after the collector's
     pause would otherwise walk all of it. The console script's own process keeps the freeze until it exits
     (`thaw=False`): thawing first would make the interpreter's final collection walk the whole graph
     (about 1 s of CPU for 100,000 jobs); `main(argv)` called from Python thaws.
3. Transparent huge pages off (Linux `prctl(PR_SET_THP_DISABLE)`) while a result part is written and while
   parts are reconciled, then put back as they were (`runtime.parts.arrow_memory.small_pages`): zeroing each
   huge page faulted in cost more than the work on lazily backed virtual machines.
4. Arrow's default memory pool swapped for the system allocator while parts are reconciled, then the
   caller's pool is set back (`runtime.parts.arrow_memory.system_pool`); the runtime's own worker and
   evaluator processes use the system allocator for their whole life (`use_system_pool`), as the one
   exception above says.
5. An import finder ahead of the others in the runtime's own evaluator processes (and workers that score),
   for their whole life (`runtime.parts.arrow_pandas`): pyarrow's first conversion would import pandas (0.3 s
   or more) only to ask whether it is there, so it is told no until something imports pandas, and told yes
   then.
6. Freed native memory handed back to the kernel (glibc's `malloc_trim(0)`) by the process driving a runtime
   run, every 50,000 committed rows and before the parts are reconciled (`runtime.parts.free_memory`): Ray's
   threads free batch buffers whose pages their allocator arenas would otherwise keep. It changes no setting
   and nothing in use, so there is nothing to undo.

`tests/runtime/test_process_wide.py` checks that planning and running the runtime leave the frozen count, the
huge-page setting and Arrow's default pool as they found them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_command_scopes = 0  # how many `command_scope()` blocks are open (they may nest)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block, and back on after unless it was off already."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextlib.contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Every object that exists when the block starts left out of the collector's passes until it ends
    (`gc.freeze`, undone after). A runtime run allocates steadily, and each full collection it triggers would
    otherwise walk the whole heap of the caller's process (tens of milliseconds with Ray loaded, more with a
    model in memory), stalling every worker waiting for its next batch. Nothing is done where the caller has
    frozen objects itself."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def command_scope(*, thaw: bool = True) -> Iterator[None]:
    """One command, start to finish: objects built inside that live until it ends may be frozen out of the
    collector's passes (`freeze_built`); they are unfrozen when it ends, unless the caller had frozen objects
    before it began, or `thaw` is False: for a process that exits when the command ends, where thawing would
    only make the interpreter's final collection walk every object the command froze."""
    global _command_scopes
    frozen_before = gc.get_freeze_count()
    _command_scopes += 1
    try:
        yield
    finally:
        _command_scopes -= 1
        if thaw and not _command_scopes and not frozen_before:
            gc.unfreeze()


def freeze_built() -> None:
    """Inside `command_scope()`, freezes every object that exists now (see `command_scope`); elsewhere the
    collector is left as it is."""
    if _command_scopes:
        gc.freeze()
