"""`Job`: one task at one case, fully resolved: the contract between planning and execution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class InputLink:
    """A task input that names files: linked into the job directory under `name` before the script runs.

    A single file (`target` set, `entries` empty) becomes a relative symlink `name -> target`.
    A reduction (`is_reduction`) becomes a directory `name/` with one relative symlink per entry,
    `name/<entry> -> target`, and nothing else (scripts list it, as in HyperMake); the manifest that maps
    entries to cases is the hidden file `.<name>.manifest.arrow` beside the folder.
    A value on another file system than the one the task expects it on (`source_fs` ≠ `fs`) is transferred
    instead (uploaded, downloaded or copied between file systems); on the same custom file system it is linked there with that file system's `link`.
    """

    name: str
    target: str | None = None                    # absolute path (single input)
    is_reduction: bool = False
    entries: Sequence[ReductionEntry] = ()       # a tuple, or the planner's, made when first read
    link: bool = True                            # False for call arguments: in the environment only, no symlink
    fs: str = LOCAL                              # where the task expects the input (`name@fs`)
    source_fs: str = LOCAL                       # where the value lives (single input)
    source: str | None = None                    # its path relative to `source_fs`'s root (custom fs)


@dataclass(frozen=True, slots=True)
class ReductionEntry:
    name: str                                    # entry name: case string over the reduced axes, or `default`
    target: str                                  # absolute path of the upstream output
    case: tuple[tuple[str, str], ...]            # reduced axis -> key for this entry (all reduced axes)
    fs: str = LOCAL                              # the file system the upstream output lives on
    source: str | None = None                    # its path relative to that file system's root


@dataclass(frozen=True, slots=True)
class ShellFunction:
    """A `def` of a file-system or runner object: parameter names, body, and the defaults of parameters
    (already turned into text: a task output's default is its absolute path)."""

    name: str
    params: tuple[str, ...]
    script: str
    defaults: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FileSystemSpec:
    """What any process needs to call a custom file system's operations (`exists`, `link`, `upload`, ...):
    its root, its functions,
    the object's variables (class arguments and plain values), the invocation directory (the cwd of its
    calls) and the local output root (the cwd of upload and download). `copies` are the root-level
    functions `copy_from_<G>_to_<name>`, by the source file system's name."""

    name: str
    root: str
    functions: tuple[ShellFunction, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    cwd: str = ""
    local_root: str = ""
    copies: tuple[tuple[str, ShellFunction], ...] = ()

    def function(self, op: str) -> ShellFunction | None:
        """The function implementing `op`, if the object defines it."""
        return next((f for f in self.functions if f.name == op), None)

    def copy_from(self, source: str) -> ShellFunction | None:
        """`copy_from_<source>_to_<name>`, if the pipeline defines it."""
        return next((f for name, f in self.copies if name == source), None)


@dataclass(frozen=True, slots=True)
class RunnerSpec:
    """A `@@runner`: its `submit`/`poll`/`cancel` functions, the object's variables, the poll interval in
    seconds and the invocation directory (the functions themselves run in the job's directory)."""

    name: str
    functions: tuple[ShellFunction, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    refresh_interval: float = 5.0
    cwd: str = ""

    def function(self, op: str) -> ShellFunction | None:
        return next((f for f in self.functions if f.name == op), None)


@dataclass(frozen=True, slots=True)
class DecoratorLayer:
    """One `run(inner)` wrapper: its body, the name of its parameter, and its own variables."""

    name: str                                    # decorator path as written, for messages
    script: str                                  # body of the decorator object's `run` function
    param: str                                   # `run`'s single parameter; receives `script.N`
    variables: tuple[tuple[str, str], ...] = ()  # class arguments and defaults of the decorator


@dataclass(frozen=True, slots=True)
class Resources:
    """Per-job resource counts (from the stdlib resources decorator); zero means none requested."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory: int = 0                              # bytes
    custom: tuple[tuple[str, float], ...] = ()


@dataclass(slots=True)
class Job:
    """A node of the job graph. Never changed once planned (`dataclasses.replace` makes a changed copy); not
    frozen only because a frozen dataclass's constructor costs four times as much, and plans build 100,000s.

    `variables` are the script's variables with this precedence already applied (later wins): function/class
    defaults < call/class args < task inputs/outputs < decorator args, with inputs holding absolute paths
    and outputs absolute paths (`<root>/<relpath>/<file>`). Execution adds `HYPERMAKE_JOB_*`.
    """

    id: str                                      # `o/t?A=y&B=1`, or `o/t` for the default case
    name: str                                    # dotted task name `o.t`
    case: tuple[tuple[str, str], ...]            # canonical case: non-default pairs sorted by axis name
    full_case: tuple[tuple[str, str], ...]       # every axis of the task with its key, in axis order
    relpath: str                                 # `o/t/A=y&B=1` (case dir percent-encoded, maybe MD5)
    workdir: str                                 # absolute job directory
    script: str                                  # the task's own script text (becomes script.0 or script)
    variables: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]         # output name -> file path relative to the job directory
    inputs: tuple[InputLink, ...] = ()
    decorators: tuple[DecoratorLayer, ...] = ()  # innermost (nearest the task) first
    deps: tuple[str, ...] = ()                   # ids of the jobs this one needs, sorted
    ephemeral: bool = False
    is_package: bool = False
    resources: Resources = field(default_factory=Resources)
    runner: RunnerSpec | None = None             # `@@runner(...)`: replaces running the script here
    exec_fs: str = LOCAL                         # `task t@fs`: the script runs through that fs's `execute`
    output_fs: tuple[tuple[str, str], ...] = ()  # output name -> file system, for outputs not on `local`
    file_systems: tuple[FileSystemSpec, ...] = ()  # every custom file system its inputs and outputs use
    after: tuple[str, ...] = ()                  # deps that need only finish, not succeed (a service's users)
    signature: str = ""                          # set before a run: recorded in `job.json` when it succeeds
    built_from: dict | None = None               # the signature's components (plan/signature.py), recorded too

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
