"""`Job`: one task at one case, fully resolved: the contract between planning and execution."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class InputLink:
    """A task input that names files: linked into the job directory under `name` before the script runs.

    A single file (`target` set, `entries` empty) becomes a relative symlink `name -> target`.
    A reduction (`is_reduction`) becomes a directory `name/` with one relative symlink per entry,
    `name/<entry> -> target`, plus the hidden manifest `.manifest.arrow` mapping entries to cases.
    """

    name: str
    target: str | None = None                    # absolute path (single input)
    is_reduction: bool = False
    entries: tuple[ReductionEntry, ...] = ()
    link: bool = True                            # False for call arguments (D9): env only, no symlink


@dataclass(frozen=True, slots=True)
class ReductionEntry:
    name: str                                    # entry name: case string over the reduced axes, or `default`
    target: str                                  # absolute path of the upstream output
    case: tuple[tuple[str, str], ...]            # reduced axis -> key for this entry (all reduced axes)


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


@dataclass(frozen=True, slots=True)
class Job:
    """A node of the job graph.

    `variables` are the script's variables in precedence order already applied (D7): function/class
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
    runner: str | None = None                    # reserved for `@@runner` (not planned yet)

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
