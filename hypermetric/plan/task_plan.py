"""What the planner computes once per task and once per case before building jobs.

`TaskPlan` holds a task's path, defaults and bindings split by kind; `JobRef` names one (task, case) with its
id, directory and output paths before the job is built, named by the planner's `CaseNames` (the one naming
rule, in `hypermetric.model.case`).
"""

from __future__ import annotations

from hypermetric.model.case import CaseNames, Pairs, task_path
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
        "files",
        "inputs",
        "is_package",
        "name",
        "output_fs",
        "output_fs_items",
        "output_vars",
        "outputs",
        "path",
        "resources",
        "runner",
        "script",
        "services",
    )

    def __init__(self, resolved: TaskTensor, fs_roots: dict[str, str]) -> None:
        self.name = resolved.name
        self.path = task_path(resolved.name)
        self.axes, self.script, self.runner = resolved.axes, resolved.script, resolved.runner
        self.defaults = dict(zip(resolved.axes, resolved.defaults))
        self.inputs = [(b.name, b.node, b.kind, _texts(b.node), b.fs)
                       for b in resolved.bindings if b.kind != OUTPUT]
        self.outputs = [(b.name, b.node, fs_roots[b.fs]) for b in resolved.outputs]
        self.output_fs = {b.name: b.fs for b in resolved.outputs if b.fs != LOCAL}
        self.output_fs_items = tuple(self.output_fs.items())
        self.ephemeral, self.is_package = resolved.ephemeral, resolved.is_package
        self.output_vars = [b.name for b in resolved.bindings if b.kind == OUTPUT]
        self.files = _constant_files(self.outputs)
        self.decorators = resolved.decorators
        self.resources = next((d for d in resolved.decorators
                               if is_resources_decorator(d.cls, {v.name for v in d.variables})), None)
        self.services = resolved.services
        self.exec_fs = resolved.fs


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
    """A job known by (task, case) before it is built: id, directory and absolute output paths."""

    __slots__ = ("abs", "case", "files", "id", "pairs", "plan", "relpath", "workdir")

    def __init__(self, plan: TaskPlan, pairs: Pairs, root: str, max_length: int, names: CaseNames) -> None:
        self.plan, self.pairs = plan, pairs
        case = dict(plan.defaults)
        case.update(pairs)
        self.case = case
        self.id, self.relpath = names.job(plan.path, pairs, max_length)
        self.workdir = f"{root}/{self.relpath}"
        files = plan.files if plan.files is not None else {
            name: node.at(case).text for name, node, _ in plan.outputs}  # type: ignore[union-attr]  # plain strings, checked when loaded
        self.files = files
        rel = self.relpath
        self.abs = {name: f"{fs_root}/{rel}/{files[name]}" if fs_root else f"{rel}/{files[name]}"
                    for name, _, fs_root in plan.outputs}
