"""File-system, runner and service objects as the tasks use them: names, roots, settings and shell functions."""

from __future__ import annotations

from collections.abc import Mapping

from hypermetric.record import Record, setfield
from hypermetric.semantics.model.values import Value

# operation -> (parameter names, script)
Functions = Mapping[str, tuple[tuple[str, ...], str]]
# operation -> (parameter, value at the default case) for each parameter with a default
Defaults = Mapping[str, tuple[tuple[str, Value], ...]]


class FileSystem(Record):
    """A custom file system named by `@name`. `functions` maps an operation (`read`, `mkdir`, `exists`,
    `link`, `touch`, `remove`, `upload`, `download`, `execute`, …) to its parameter names and script;
    `variables` are the object's class arguments (the scripts' environment); `service` is true when the
    object has ephemeral `start`/`stop` tasks. `defaults` are the functions' parameter defaults at the default
    case (`sock=$start.sock` is a task output); `values` the object's other plain values (`root`, settings),
    which the scripts see below the class arguments; `copies` the root-level `copy_from_<G>_to_<name>`
    functions by source file system `G`."""

    __slots__ = ("name", "root", "functions", "variables", "settings", "service", "defaults", "values", "copies")
    name: str
    root: str
    functions: Functions
    variables: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    service: bool
    defaults: Defaults
    values: tuple[tuple[str, str], ...]
    copies: Functions

    def __init__(self, name: str, root: str, functions: Functions | None = None,
                 variables: tuple[tuple[str, str], ...] = (), settings: tuple[tuple[str, str], ...] = (),
                 service: bool = False, defaults: Defaults | None = None, values: tuple[tuple[str, str], ...] = (),
                 copies: Functions | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "root", root)
        setfield(self, "functions", {} if functions is None else functions)
        setfield(self, "variables", variables)
        setfield(self, "settings", settings)
        setfield(self, "service", service)
        setfield(self, "defaults", {} if defaults is None else defaults)
        setfield(self, "values", values)
        setfield(self, "copies", {} if copies is None else copies)


# Not compared by value: a runner holds dicts, and planners cache the spec they build from it by the runner
# itself (an `id()` key could be reused once a runner is freed).
class Runner(Record, compare=False):
    """A resolved `@@runner(args)`: the object's functions (`submit`, `poll`, `cancel`), its
    class arguments and plain values, its functions' defaults, and `refresh_interval` (seconds between
    polls)."""

    __slots__ = ("name", "functions", "variables", "defaults", "values", "refresh_interval")
    name: str
    functions: Functions
    variables: tuple[tuple[str, str], ...]
    defaults: Defaults
    values: tuple[tuple[str, str], ...]
    refresh_interval: float

    def __init__(self, name: str, functions: Functions, variables: tuple[tuple[str, str], ...] = (),
                 defaults: Defaults | None = None, values: tuple[tuple[str, str], ...] = (),
                 refresh_interval: float = 5.0) -> None:
        setfield(self, "name", name)
        setfield(self, "functions", functions)
        setfield(self, "variables", variables)
        setfield(self, "defaults", {} if defaults is None else defaults)
        setfield(self, "values", values)
        setfield(self, "refresh_interval", refresh_interval)


class Service(Record):
    """An object with `start` and `stop` tasks, by its dotted path: a job that uses it depends on the `start`
    job, and the `stop` job runs after every job that uses it."""

    __slots__ = ("path", "start", "stop")
    path: str
    start: str                       # dotted name of the `start` task
    stop: str                        # dotted name of the `stop` task

    def __init__(self, path: str, start: str, stop: str) -> None:
        setfield(self, "path", path)
        setfield(self, "start", start)
        setfield(self, "stop", stop)
