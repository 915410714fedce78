"""What the planner computes once per task and once per case before building jobs.

`TaskPlan` holds a task's path, defaults and bindings split by kind; `JobRef` names one (task, case) by its id
(named by the planner's `CaseNames`, the one naming rule, in `hypermetric.model.case`) before the job is built.
"""

from __future__ import annotations

from hypermetric.model.case import Pairs, relpath_of_id, task_path
from hypermetric.plan.job import Resources
from hypermetric.plan.resources import is_resources_decorator
from hypermetric.semantics.model import LOCAL, OUTPUT, Branch, Const, Node, Pure, TaskTensor


class TaskPlan:
    """Per-task data computed once: path, defaults, bindings split by kind, output file systems."""

    __slots__ = (
        "axes",
        "decorators",
        "defaults",
        "ephemeral",
        "exec_fs",
        "explored",
        "files",
        "inputs",
        "is_package",
        "local_files",
        "max_length",
        "name",
        "output_fs",
        "output_fs_items",
        "output_roots",
        "output_vars",
        "outputs",
        "path",
        "resources",
        "root",
        "runner",
        "script",
        "services",
        "workdirs",
    )

    def __init__(self, resolved: TaskTensor, fs_roots: dict[str, str], max_length: int) -> None:
        self.name = resolved.name
        self.root, self.max_length = fs_roots[LOCAL], max_length
        self.path = task_path(resolved.name)
        self.axes, self.script, self.runner = resolved.axes, resolved.script, resolved.runner
        self.defaults = dict(zip(resolved.axes, resolved.defaults))
        self.inputs = [(b.name, b.node, b.kind, _texts(b.node), b.fs)
                       for b in resolved.bindings if b.kind != OUTPUT]
        self.outputs = [(b.name, b.node, fs_roots[b.fs]) for b in resolved.outputs]
        self.output_roots = {b.name: fs_roots[b.fs] for b in resolved.outputs}
        self.output_fs = {b.name: b.fs for b in resolved.outputs if b.fs != LOCAL}
        self.output_fs_items = tuple(self.output_fs.items())
        self.ephemeral, self.is_package = resolved.ephemeral, resolved.is_package
        self.output_vars = [b.name for b in resolved.bindings if b.kind == OUTPUT]
        self.files = _constant_files(self.outputs)
        # What the status of a done job needs, the same for every job of the task: its directory is
        # `workdirs` + its case directory, and its outputs' paths are `local_files` (None: they vary by
        # case, or some is on a custom file system).
        self.workdirs = f"{self.root}/{self.path}/"
        self.local_files = tuple(self.files.values()) if self.files is not None and not self.output_fs else None
        self.decorators = resolved.decorators
        self.resources = next((d for d in resolved.decorators
                               if is_resources_decorator(d.cls, {v.name for v in d.variables})), None)
        self.services = resolved.services
        # The nodes that may name other jobs' outputs: none for a task fed by plain values only.
        self.explored = [node for _, node, _, text, _ in self.inputs if text is None]
        self.explored += [v.node for d in self.decorators for v in d.variables]
        self.exec_fs = resolved.fs

    def output_path(self, relpath: str, file: str, name: str) -> str:
        """The absolute path of output `name` (file `file`) of the job at `relpath` (relative to its file
        system's root where that has none)."""
        root = self.output_roots[name]
        return f"{root}/{relpath}/{file}" if root else f"{relpath}/{file}"


def _text(node: object) -> str | None:
    """The text of a plain-string constant; None for any other node."""
    if isinstance(node, Const) and isinstance(node.value, Pure):
        return node.value.text
    return None


def _texts(node: Node) -> str | tuple[str, str, dict[str, str]] | None:
    """A fast form of the common plain-string tensors: a constant's text, or (axis, default, key -> text)
    for a dict of plain strings on one axis; None for anything else."""
    text = _text(node)
    if text is not None or not isinstance(node, Branch):
        return text
    table: dict[str, str] = {}
    for key, branch in node.branches.items():
        text = _text(branch)
        if text is None:
            return None
        table[key] = text
    return node.axis, node.default, table


def _constant_files(outputs: list[tuple[str, Node, str]]) -> dict[str, str] | None:
    """Output name -> file name when every output's file is the same at each case; else None."""
    files: dict[str, str] = {}
    for name, node, _ in outputs:
        text = _text(node)
        if text is None:
            return None
        files[name] = text
    return files


NO_RESOURCES = Resources()


class JobRef:
    """A job known by (task, case) before it is built: its id and canonical pairs. Everything else (directory,
    output paths, the full case) is derived when asked for, so a planned but unbuilt job costs a few dozen
    bytes."""

    __slots__ = ("id", "pairs", "plan")

    def __init__(self, plan: TaskPlan, pairs: Pairs, job_id: str) -> None:
        self.plan, self.pairs, self.id = plan, pairs, job_id

    @property
    def relpath(self) -> str:
        """`o/t/A=y&B=1`: the job directory relative to the output root (the id's query, maybe hashed)."""
        return relpath_of_id(self.id, self.plan.max_length)

    @property
    def case(self) -> dict[str, str]:
        """Every axis of the task with its key at this job."""
        case = dict(self.plan.defaults)
        case.update(self.pairs)
        return case

    @property
    def files(self) -> dict[str, str]:
        """Output name -> file path relative to the job directory."""
        files = self.plan.files
        if files is not None:
            return files
        case = self.case
        return {name: node.at(case).text for name, node, _ in self.plan.outputs}  # type: ignore[union-attr]  # plain strings, checked when loaded

    def output(self, name: str) -> tuple[str, str]:
        """Output `name`'s file path relative to the job directory, and its absolute form."""
        file = self.files[name]
        return file, self.plan.output_path(self.relpath, file, name)

    @property
    def label(self) -> str:
        """`name[A: k]`, or `name[default]` for the default case (as `Job.label`)."""
        pairs = self.pairs
        if not pairs:
            return f"{self.plan.name}[default]"
        return f"{self.plan.name}[{', '.join(map(': '.join, pairs))}]"
