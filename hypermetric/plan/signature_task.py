"""What the planned digests of one task's jobs share, worked out once per task (see plan/signature_fast.py)."""

from __future__ import annotations

from collections.abc import Mapping

from hypermetric.plan.signature_record import SEP, digest, layered_script, output_parts
from hypermetric.plan.task_plan import TaskPlan
from hypermetric.semantics.model import Const, Node, Output, Pure, TaskOutput, walk

# An upstream output a job reads: the reference, and the upstream task's axes when the upstream case is the
# job's own pairs on them (see `shared_axes`).
Link = tuple[Output, "frozenset[str] | None"]


class TaskRecord:
    """What the digests of one task's jobs share: `head` (script hash and outputs, when every job has the same
    output files) and, for the common task (fixed output files, nothing decorating it, each input a plain
    string at every case, one upstream output or a reduction over the upstream task's own axes), the whole
    record as a `%` format (`plain`) with the job id, each value that varies, each upstream digest and each
    reduction's entries as `%s`: the values (`slots`) are (axis, key when the case lacks the axis,
    key -> text), the upstream outputs (`links`) and reductions (`reductions`: with the reduced axes) their
    references. `reduces`: some input is a reduction."""

    __slots__ = ("head", "links", "outputs", "plain", "reduces", "reductions", "script", "slots")

    def __init__(self, plan: TaskPlan) -> None:
        self.script = digest(layered_script(plan.script, plan.decorators).encode())
        self.outputs = {name for name, _, _ in plan.outputs}
        self.head = None if plan.files is None else SEP.join([self.script, *output_parts(plan.files.items())])
        self.plain: str | None = None
        self.slots: list[tuple[str, str, dict[str, str]]] = []
        self.links: list[Link] = []
        self.reductions: list[tuple[Output, frozenset[str]]] = []
        self.reduces = any(isinstance(node, Output) and node.reduced for _, node, *_ in plan.inputs)
        if self.head is None or plan.decorators or not all(
                name not in self.outputs and (text is not None or _one_or_own_axes(node))
                for name, node, _, text, _ in plan.inputs):
            return
        # Values, then inputs, then reductions, each sorted by name, as `encode` writes them.
        parts = ["%s", literal(self.head)]
        for name, text in sorted((n, t) for n, _, _, t, _ in plan.inputs if t is not None):
            if isinstance(text, str):
                parts.append(literal(f"v:{name}={text}"))
            else:
                axis, default, table = text
                parts.append(literal(f"v:{name}=") + "%s")
                self.slots.append((axis, plan.defaults.get(axis, default), table))
        outputs = sorted((n, node) for n, node, _, t, _ in plan.inputs if isinstance(node, Output))
        for name, node in outputs:
            if not node.reduced:
                parts.append(literal(f"i:{name}=") + "%s")
                self.links.append((node, shared_axes(node, plan.defaults)))
        for name, node in outputs:
            if node.reduced:
                parts.append(literal(f"r:{name}=") + "%s")
                self.reductions.append((node, frozenset(axis for axis, _ in node.reduced)))
        self.plain = SEP.join(parts)


def _one_or_own_axes(node: Node) -> bool:
    """A reference to one upstream output, or a reduction over axes of the upstream task only (whose entry
    names then come from the upstream cases)."""
    return isinstance(node, Output) and all(axis in node.axes for axis, _ in node.reduced)


def shared_axes(node: Output, defaults: Mapping[str, str]) -> frozenset[str] | None:
    """The upstream task's axes when its case at a job is the job's own pairs on those axes (no key fixed,
    each axis one of the job's own with the same default); else None."""
    if node.fixed or any(defaults.get(axis) != default for axis, default in zip(node.axes, node.defaults)):
        return None
    return frozenset(node.axes)


def literal(text: str) -> str:
    """`text` as a literal part of a `%` format."""
    return text.replace("%", "%%")


def may_be_covered(node: Node) -> bool:
    """Whether the node's values can all be plain strings or single task outputs (no reduction, no input
    file)."""
    for leaf in walk(node):
        if isinstance(leaf, Output) and leaf.reduced:
            return False
        if isinstance(leaf, Const) and not isinstance(leaf.value, (Pure, TaskOutput)):
            return False
    return True
