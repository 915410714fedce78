"""What the planner computes once per task and once per case before building jobs.

`TaskPlan` holds a task's path, defaults and bindings split by kind; `JobRef` names one (task, case) with its
id, directory and output paths before the job is built; `CaseClauses` memoises the `Axis=key` clauses of
directory names, since the same keys repeat across many cases.
"""

from __future__ import annotations

from hypermetric.model.case import Pairs, task_path
from hypermetric.percent import encode, shorten
from hypermetric.plan.job import Resources
from hypermetric.plan.resources import is_resources_decorator
from hypermetric.semantics.entities import OUTPUT, Task
from hypermetric.semantics.nodes import Branch, Const, Node
from hypermetric.semantics.values import LOCAL, Pure


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
        "output_fs",
        "output_fs_items",
        "output_vars",
        "outputs",
        "path",
        "resources",
        "runner",
        "script",
        "services",
        "task",
    )

    def __init__(self, task: Task, fs_roots: dict[str, str]) -> None:
        resolved = task.resolved
        assert resolved is not None
        self.task = task
        self.path = task_path(task.name)
        self.axes, self.script, self.runner = resolved.axes, resolved.script, resolved.runner
        self.defaults = dict(zip(resolved.axes, resolved.defaults))
        self.inputs = [(b.name, b.node, b.kind, _texts(b.node), b.fs)
                       for b in resolved.bindings if b.kind != OUTPUT]
        self.outputs = [(b.name, b.node, fs_roots[b.fs]) for b in resolved.outputs]
        self.output_fs = {b.name: b.fs for b in resolved.outputs if b.fs != LOCAL}
        self.output_fs_items = tuple(self.output_fs.items())
        self.ephemeral, self.is_package = task.ephemeral, task.is_package
        self.output_vars = [b.name for b in resolved.bindings if b.kind == OUTPUT]
        self.files = ({name: node.value.text for name, node, _ in self.outputs}  # type: ignore[union-attr]
                      if all(_is_text(node) for _, node, _ in self.outputs) else None)
        self.decorators = resolved.decorators
        self.resources = next((d for d in resolved.decorators
                               if is_resources_decorator(d.cls, {v.name for v in d.variables})), None)
        self.services = resolved.services
        self.exec_fs = resolved.fs


def _is_text(node: object) -> bool:
    return isinstance(node, Const) and isinstance(node.value, Pure)


def _texts(node: Node) -> str | tuple[str, str, dict[str, str]] | None:
    """A fast form of the common plain-string tensors: a constant's text, or (axis, default, key -> text)
    for a dict of plain strings on one axis; None for anything else."""
    if _is_text(node):
        return node.value.text  # type: ignore[union-attr]
    if isinstance(node, Branch) and all(_is_text(b) for b in node.branches.values()):
        return node.axis, node.default, {k: b.value.text for k, b in node.branches.items()}  # type: ignore[union-attr]
    return None


NO_RESOURCES = Resources()


class CaseClauses(dict):
    """`(axis, key)` -> `axis=enc(key)`, computed once per pair (keys repeat across many cases)."""

    def __missing__(self, pair: tuple[str, str]) -> str:
        text = self[pair] = f"{pair[0]}={encode(pair[1])}"
        return text

    def string(self, pairs: Pairs) -> str:
        """The case string of canonical pairs."""
        return "&".join([self[p] for p in pairs])


class JobRef:
    """A job known by (task, case) before it is built: id, directory and absolute output paths."""

    __slots__ = ("abs", "case", "files", "id", "pairs", "plan", "relpath", "workdir")

    def __init__(self, plan: TaskPlan, pairs: Pairs, root: str, max_length: int, clauses: CaseClauses) -> None:
        self.plan, self.pairs = plan, pairs
        case = dict(plan.defaults)
        case.update(pairs)
        self.case = case
        if pairs:
            text = clauses.string(pairs)
            self.id = f"{plan.path}?{text}"
            self.relpath = f"{plan.path}/{shorten(text, max_length)}"
        else:
            self.id = plan.path
            self.relpath = f"{plan.path}/default"
        self.workdir = f"{root}/{self.relpath}"
        files = plan.files if plan.files is not None else {
            name: node.at(case).text for name, node, _ in plan.outputs}  # type: ignore[union-attr]
        self.files = files
        rel = self.relpath
        self.abs = {name: f"{fs_root}/{rel}/{files[name]}" if fs_root else f"{rel}/{files[name]}"
                    for name, _, fs_root in plan.outputs}
