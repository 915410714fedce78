"""File-system, runner and service objects as the tasks use them: names, roots, settings and shell functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypermetric.semantics.model.values import Value

# operation -> (parameter names, script)
Functions = Mapping[str, tuple[tuple[str, ...], str]]
# operation -> (parameter, value at the default case) for each parameter with a default
Defaults = Mapping[str, tuple[tuple[str, Value], ...]]


@dataclass(frozen=True, slots=True)
class FileSystem:
    """A custom file system named by `@name`. `functions` maps an operation (`read`, `mkdir`, `exists`,
    `link`, `touch`, `remove`, `upload`, `download`, `execute`, …) to its parameter names and script;
    `variables` are the object's class arguments (the scripts' environment); `service` is true when the
    object has ephemeral `start`/`stop` tasks. `defaults` are the functions' parameter defaults at the default
    case (`sock=$start.sock` is a task output); `values` the object's other plain values (`root`, settings),
    which the scripts see below the class arguments; `copies` the root-level `copy_from_<G>_to_<name>`
    functions by source file system `G`."""

    name: str
    root: str
    functions: Functions = field(default_factory=dict)
    variables: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    service: bool = False
    defaults: Defaults = field(default_factory=dict)
    values: tuple[tuple[str, str], ...] = ()
    copies: Functions = field(default_factory=dict)


# Not compared by value: a runner holds dicts, and planners cache the spec they build from it by the runner
# itself (an `id()` key could be reused once a runner is freed).
@dataclass(frozen=True, slots=True, eq=False)
class Runner:
    """A resolved `@@runner(args)`: the object's functions (`submit`, `poll`, `cancel`), its
    class arguments and plain values, its functions' defaults, and `refresh_interval` (seconds between
    polls)."""

    name: str
    functions: Functions
    variables: tuple[tuple[str, str], ...] = ()
    defaults: Defaults = field(default_factory=dict)
    values: tuple[tuple[str, str], ...] = ()
    refresh_interval: float = 5.0


@dataclass(frozen=True, slots=True)
class Service:
    """An object with `start` and `stop` tasks, by its dotted path: a job that uses it depends on the `start`
    job, and the `stop` job runs after every job that uses it."""

    path: str
    start: str                       # dotted name of the `start` task
    stop: str                        # dotted name of the `stop` task
