"""Task fingerprints: one number per task that changes whenever anything its jobs' planned digests are made
from may have changed, so that the status cache can remember "this job's recorded signature was its planned
one" and a later pass that finds the same fingerprint need not compute the digest again.

A planned digest computed from the task's plan (plan/signature_fast.py) depends on the job's id and on: the
task's script and decorators, its values (with every `-D` override and axis key already in them), its outputs,
how it reads other tasks' outputs (which cases, which keys a reduction gathers), the output root and the file
name limit, and the same of every task it reads from. The fingerprint hashes all of that (the upstream tasks'
fingerprints in place of their contents), leaving out only source positions. Equal fingerprints therefore mean
equal digests for every job the fast computation covers; the converse need not hold (a change that changes no
digest may still change the fingerprint: the cache is then checked once more, nothing else).

A task whose digests need more than its plan (a plain input file's content, another file system: the tasks the
fast computation leaves to the full one) has none (0), nor has a task reading from one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from hypermetric.hashing import blake2b
from hypermetric.plan.task_plan import JobRef, TaskPlan
from hypermetric.semantics.model import Branch, Const, InputFile, Node, Output, Pure, TaskOutput, walk

_FORMAT = "hypermetric task fingerprint 1"  # changed whenever what a digest is made of changes
NONE = 0  # no fingerprint


def node_text(node: Node) -> tuple | None:
    """A node as plain tuples of strings (its source position left out); None for a kind not known here."""
    if type(node) is Const:
        value = node.value
        if type(value) is Pure:
            return ("P", value.text)
        if type(value) is TaskOutput:
            return ("T", value.task, value.output, value.pairs, value.service)
        if type(value) is InputFile:
            return ("F", value.path, value.fs)
        return None
    if type(node) is Branch:
        branches = []
        for key, child in node.branches.items():
            text = node_text(child)
            if text is None:
                return None
            branches.append((key, text))
        return ("B", node.axis, node.default, tuple(branches))
    if type(node) is Output:
        return ("O", node.task, node.output, node.axes, node.defaults, tuple(sorted(node.fixed.items())),
                node.reduced, node.service)
    return None


def _nodes(plan: TaskPlan) -> list[Node]:
    nodes = [node for _, node, _, _, _ in plan.inputs]
    nodes += [node for _, node, _ in plan.outputs]
    nodes += [var.node for deco in plan.decorators for var in deco.variables]
    return nodes


def plan_text(plan: TaskPlan) -> tuple | None:
    """Everything of the task's plan that its digests are made from, as plain tuples; None when some value is
    of a kind not known here."""
    texts = [node_text(node) for node in _nodes(plan)]
    if any(text is None for text in texts):
        return None
    decorators = tuple((d.name, d.script, d.param, d.cls, tuple((v.name, v.kind, v.fs) for v in d.variables))
                       for d in plan.decorators)
    return (plan.name, plan.path, plan.root, plan.max_length, plan.script, tuple(plan.defaults.items()),
            tuple((name, kind, fs) for name, _, kind, _, fs in plan.inputs),
            tuple((name, root) for name, _, root in plan.outputs), tuple(plan.output_fs.items()),
            tuple(plan.output_vars), decorators, tuple(texts))


def upstream_tasks(plan: TaskPlan) -> set[str]:
    """The names of the tasks whose outputs the task's values may name."""
    names = set()
    for node in _nodes(plan):
        for leaf in walk(node):
            if type(leaf) is Output:
                names.add(leaf.task)
            elif type(leaf) is Const and type(leaf.value) is TaskOutput:
                names.add(leaf.value.task)
    return names


class Fingerprints:
    """The fingerprint of each task of a planned graph, found from one of its jobs: the upstream tasks'
    plans are those of the job's dependencies. `covered(plan)`: whether the fast computation covers the
    task's jobs at all."""

    def __init__(self, ref: Callable[[str], JobRef], needs: Mapping[str, tuple[str, ...]],
                 covered: Callable[[TaskPlan], bool]) -> None:
        self._ref, self._needs, self._covered = ref, needs, covered
        self._prints: dict[TaskPlan, int] = {}  # held, so never a reused id

    def of(self, job_id: str) -> int:
        """The fingerprint of the job's task (NONE when it has none)."""
        found = self._prints.get(self._ref(job_id).plan)
        return self._walk(job_id) if found is None else found

    def _walk(self, job_id: str) -> int:
        """Fingerprint the job's task after its upstream tasks, without recursion."""
        prints, ref = self._prints, self._ref
        stack, started = [job_id], set()
        while stack:
            current = stack[-1]
            plan = ref(current).plan
            if plan in prints:
                stack.pop()
                continue
            upstream = self._upstream(current, plan)
            if upstream is None or any(ref(up).plan in started for up in upstream.values()):
                prints[plan] = NONE  # not covered, an upstream task not found, or a task reading itself
                stack.pop()
                continue
            started.add(plan)
            missing = [up for up in upstream.values() if ref(up).plan not in prints]
            if missing:
                stack.extend(missing)
                continue
            prints[plan] = _combine(plan, [(name, prints[ref(up).plan]) for name, up in sorted(upstream.items())])
            stack.pop()
        return prints[ref(job_id).plan]

    def _upstream(self, job_id: str, plan: TaskPlan) -> dict[str, str] | None:
        """One job of each task the job's task reads from, by task name; None when the task is not covered or
        the job reads from no job of one of them."""
        if not self._covered(plan):
            return None
        names = upstream_tasks(plan)
        found: dict[str, str] = {}
        if names:
            for dep in self._needs.get(job_id, ()):
                name = self._ref(dep).plan.name
                if name in names and name not in found:
                    found[name] = dep
                    if len(found) == len(names):
                        break
        return found if len(found) == len(names) else None


def _combine(plan: TaskPlan, upstream: Iterable[tuple[str, int]]) -> int:
    """The fingerprint of a task from its plan and its upstream tasks' fingerprints (NONE if one has none)."""
    upstream = tuple(upstream)
    text = plan_text(plan)
    if text is None or any(found == NONE for _, found in upstream):
        return NONE
    data = repr((_FORMAT, text, upstream)).encode("utf-8", "surrogatepass")
    value = int.from_bytes(blake2b(data, digest_size=8).digest(), "little", signed=True)
    return value or 1
