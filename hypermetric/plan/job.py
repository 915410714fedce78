"""`Job`: one task at one case, fully resolved: the contract between planning and execution."""

from __future__ import annotations

from collections.abc import Sequence

from hypermetric.record import Record, RecordBase, setfield

LOCAL = "local"


class InputLink(Record):
    """A task input that names files: linked into the job directory under `name` before the script runs.

    A single file (`target` set, `entries` empty) becomes a relative symlink `name -> target`.
    A reduction (`is_reduction`) becomes a directory `name/` with one relative symlink per entry,
    `name/<entry> -> target`, and nothing else (scripts list it, as in HyperMake); the manifest that maps
    entries to cases is the hidden file `.<name>.manifest.arrow` beside the folder.
    A value on another file system than the one the task expects it on (`source_fs` ≠ `fs`) is transferred
    instead (uploaded, downloaded or copied between file systems); on the same custom file system it is linked there with that file system's `link`.
    """

    __slots__ = ("name", "target", "is_reduction", "entries", "link", "fs", "source_fs", "source")
    name: str
    target: str | None  # absolute path (single input)
    is_reduction: bool
    entries: Sequence[ReductionEntry]  # a tuple, or the planner's, made when first read
    link: bool  # False for call arguments: in the environment only, no symlink
    fs: str  # where the task expects the input (`name@fs`)
    source_fs: str  # where the value lives (single input)
    source: str | None  # its path relative to `source_fs`'s root (custom fs)

    def __init__(self, name: str, target: str | None = None, is_reduction: bool = False,
                 entries: Sequence[ReductionEntry] = (), link: bool = True, fs: str = LOCAL,
                 source_fs: str = LOCAL, source: str | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "target", target)
        setfield(self, "is_reduction", is_reduction)
        setfield(self, "entries", entries)
        setfield(self, "link", link)
        setfield(self, "fs", fs)
        setfield(self, "source_fs", source_fs)
        setfield(self, "source", source)


class ReductionEntry(Record):
    __slots__ = ("name", "target", "case", "fs", "source")
    name: str  # entry name: case string over the reduced axes, or `default`
    target: str  # absolute path of the upstream output
    case: tuple[tuple[str, str], ...]  # reduced axis -> key for this entry (all reduced axes)
    fs: str  # the file system the upstream output lives on
    source: str | None  # its path relative to that file system's root

    def __init__(self, name: str, target: str, case: tuple[tuple[str, str], ...], fs: str = LOCAL,
                 source: str | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "target", target)
        setfield(self, "case", case)
        setfield(self, "fs", fs)
        setfield(self, "source", source)


class ShellFunction(Record):
    """A `def` of a file-system or runner object: parameter names, body, and the defaults of parameters
    (already turned into text: a task output's default is its absolute path)."""

    __slots__ = ("name", "params", "script", "defaults")
    name: str
    params: tuple[str, ...]
    script: str
    defaults: tuple[tuple[str, str], ...]

    def __init__(self, name: str, params: tuple[str, ...], script: str,
                 defaults: tuple[tuple[str, str], ...] = ()) -> None:
        setfield(self, "name", name)
        setfield(self, "params", params)
        setfield(self, "script", script)
        setfield(self, "defaults", defaults)


class FileSystemSpec(Record):
    """What any process needs to call a custom file system's operations (`exists`, `link`, `upload`, ...):
    its root, its functions,
    the object's variables (class arguments and plain values), the invocation directory (the cwd of its
    calls) and the local output root (the cwd of upload and download). `copies` are the root-level
    functions `copy_from_<G>_to_<name>`, by the source file system's name."""

    __slots__ = ("name", "root", "functions", "variables", "cwd", "local_root", "copies")
    name: str
    root: str
    functions: tuple[ShellFunction, ...]
    variables: tuple[tuple[str, str], ...]
    cwd: str
    local_root: str
    copies: tuple[tuple[str, ShellFunction], ...]

    def __init__(self, name: str, root: str, functions: tuple[ShellFunction, ...] = (),
                 variables: tuple[tuple[str, str], ...] = (), cwd: str = "", local_root: str = "",
                 copies: tuple[tuple[str, ShellFunction], ...] = ()) -> None:
        setfield(self, "name", name)
        setfield(self, "root", root)
        setfield(self, "functions", functions)
        setfield(self, "variables", variables)
        setfield(self, "cwd", cwd)
        setfield(self, "local_root", local_root)
        setfield(self, "copies", copies)

    def function(self, op: str) -> ShellFunction | None:
        """The function implementing `op`, if the object defines it."""
        return next((f for f in self.functions if f.name == op), None)

    def copy_from(self, source: str) -> ShellFunction | None:
        """`copy_from_<source>_to_<name>`, if the pipeline defines it."""
        return next((f for name, f in self.copies if name == source), None)


class RunnerSpec(Record):
    """A `@@runner`: its `submit`/`poll`/`cancel` functions, the object's variables, the poll interval in
    seconds and the invocation directory (the functions themselves run in the job's directory)."""

    __slots__ = ("name", "functions", "variables", "refresh_interval", "cwd")
    name: str
    functions: tuple[ShellFunction, ...]
    variables: tuple[tuple[str, str], ...]
    refresh_interval: float
    cwd: str

    def __init__(self, name: str, functions: tuple[ShellFunction, ...] = (),
                 variables: tuple[tuple[str, str], ...] = (), refresh_interval: float = 5.0, cwd: str = "") -> None:
        setfield(self, "name", name)
        setfield(self, "functions", functions)
        setfield(self, "variables", variables)
        setfield(self, "refresh_interval", refresh_interval)
        setfield(self, "cwd", cwd)

    def function(self, op: str) -> ShellFunction | None:
        return next((f for f in self.functions if f.name == op), None)


class DecoratorLayer(Record):
    """One `run(inner)` wrapper: its body, the name of its parameter, and its own variables."""

    __slots__ = ("name", "script", "param", "variables")
    name: str  # decorator path as written, for messages
    script: str  # body of the decorator object's `run` function
    param: str  # `run`'s single parameter; receives `script.N`
    variables: tuple[tuple[str, str], ...]  # class arguments and defaults of the decorator

    def __init__(self, name: str, script: str, param: str, variables: tuple[tuple[str, str], ...] = ()) -> None:
        setfield(self, "name", name)
        setfield(self, "script", script)
        setfield(self, "param", param)
        setfield(self, "variables", variables)


class Resources(Record):
    """Per-job resource counts (from the stdlib resources decorator); zero means none requested."""

    __slots__ = ("cpus", "gpus", "memory", "custom")
    cpus: float
    gpus: float
    memory: int  # bytes
    custom: tuple[tuple[str, float], ...]

    def __init__(self, cpus: float = 1.0, gpus: float = 0.0, memory: int = 0,
                 custom: tuple[tuple[str, float], ...] = ()) -> None:
        setfield(self, "cpus", cpus)
        setfield(self, "gpus", gpus)
        setfield(self, "memory", memory)
        setfield(self, "custom", custom)


class Job(RecordBase):
    """A node of the job graph. Never changed once planned (`hypermetric.record.replace` makes a changed
    copy); not frozen only because setting each field through `object.__setattr__`, as a frozen record's
    constructor does, costs twice as much, and plans build 100,000s.

    `variables` are the script's variables with this precedence already applied (later wins): function/class
    defaults < call/class args < task inputs/outputs < decorator args, with inputs holding absolute paths
    and outputs absolute paths (`<root>/<relpath>/<file>`). Execution adds `HYPERMAKE_JOB_*`.
    """

    __slots__ = ("id", "name", "case", "full_case", "relpath", "workdir", "script", "variables", "outputs",
                 "inputs", "decorators", "deps", "ephemeral", "is_package", "resources", "runner", "exec_fs",
                 "output_fs", "file_systems", "after", "signature", "built_from")
    __hash__ = None  # type: ignore[assignment]  # equal jobs compare field by field, and are not keys
    id: str                                      # `o/t?A=y&B=1`, or `o/t` for the default case
    name: str                                    # dotted task name `o.t`
    case: tuple[tuple[str, str], ...]            # canonical case: non-default pairs sorted by axis name
    full_case: tuple[tuple[str, str], ...]       # every axis of the task with its key, in axis order
    relpath: str                                 # `o/t/A=y&B=1` (case dir percent-encoded, maybe MD5)
    workdir: str                                 # absolute job directory
    script: str                                  # the task's own script text (becomes script.0 or script)
    variables: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]         # output name -> file path relative to the job directory
    inputs: tuple[InputLink, ...]
    decorators: tuple[DecoratorLayer, ...]       # innermost (nearest the task) first
    deps: tuple[str, ...]                        # ids of the jobs this one needs, sorted
    ephemeral: bool
    is_package: bool
    resources: Resources
    runner: RunnerSpec | None                    # `@@runner(...)`: replaces running the script here
    exec_fs: str                                 # `task t@fs`: the script runs through that fs's `execute`
    output_fs: tuple[tuple[str, str], ...]       # output name -> file system, for outputs not on `local`
    file_systems: tuple[FileSystemSpec, ...]     # every custom file system its inputs and outputs use
    after: tuple[str, ...]                       # deps that need only finish, not succeed (a service's users)
    signature: str                               # set before a run: recorded in `job.json` when it succeeds
    built_from: dict | None                      # the signature's components (plan/signature.py), recorded too

    def __init__(self, id: str, name: str, case: tuple[tuple[str, str], ...],
                 full_case: tuple[tuple[str, str], ...], relpath: str, workdir: str, script: str,
                 variables: tuple[tuple[str, str], ...], outputs: tuple[tuple[str, str], ...],
                 inputs: tuple[InputLink, ...] = (), decorators: tuple[DecoratorLayer, ...] = (),
                 deps: tuple[str, ...] = (), ephemeral: bool = False, is_package: bool = False,
                 resources: Resources | None = None, runner: RunnerSpec | None = None, exec_fs: str = LOCAL,
                 output_fs: tuple[tuple[str, str], ...] = (), file_systems: tuple[FileSystemSpec, ...] = (),
                 after: tuple[str, ...] = (), signature: str = "", built_from: dict | None = None) -> None:
        self.id = id
        self.name = name
        self.case = case
        self.full_case = full_case
        self.relpath = relpath
        self.workdir = workdir
        self.script = script
        self.variables = variables
        self.outputs = outputs
        self.inputs = inputs
        self.decorators = decorators
        self.deps = deps
        self.ephemeral = ephemeral
        self.is_package = is_package
        self.resources = _ONE_CPU if resources is None else resources
        self.runner = runner
        self.exec_fs = exec_fs
        self.output_fs = output_fs
        self.file_systems = file_systems
        self.after = after
        self.signature = signature
        self.built_from = built_from

    def file_system(self, name: str) -> FileSystemSpec:
        """The spec of the custom file system `name` (KeyError if the job does not use it)."""
        for spec in self.file_systems:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def output_file_system(self, output: str) -> str:
        """The file system output `output` is written to (`local` unless `output_fs` says otherwise)."""
        for name, fs in self.output_fs:
            if name == output:
                return fs
        return LOCAL

    @property
    def display_id(self) -> str:
        """`name` or `name[A: k, B: k2]`."""
        if not self.case:
            return self.name
        return f"{self.name}[{', '.join(f'{a}: {k}' for a, k in self.case)}]"

    @property
    def label(self) -> str:
        """`name[A: k]`, or `name[default]` for the default case (log prefix)."""
        return self.display_id if self.case else f"{self.name}[default]"

    @property
    def case_text(self) -> str:
        """`HYPERMAKE_JOB_CASE`: `A: k, B: k2`, empty for the default case."""
        return ", ".join(f"{a}: {k}" for a, k in self.case)


_ONE_CPU = Resources()  # what a job without the resources decorator asks for (records are immutable: shared)
