"""Planned digests computed from a job's (task, case), without building its `Job`.

A done job needs only its digest, to compare with the one in its `job.json`; building its `Job` (every
variable, path and input link) costs several times what the digest does. So for the common job (inputs that
are plain values, other jobs' outputs or reductions of them, all on the local file system) the digest comes
straight from the job's planning record, with what its task's jobs share worked out once: the script hash,
the outputs' part of the record, and how each input is found. Any other job (a plain input file, another
file system, a value that is a path below the output root, an output file that varies by case or lies in a
subfolder) is left to the full computation (plan/signature.py), which gives the same digest: both write the
record of plan/signature_record.py, and tests hold both to a frozen copy of the algorithm that existing
`job.json` files were signed with.
"""

from __future__ import annotations

from collections.abc import Callable

from hypermetric.model.case import CaseNames, Pairs, task_path
from hypermetric.plan.job import LOCAL
from hypermetric.plan.planned import PlannedJobs
from hypermetric.plan.signature_fingerprint import Fingerprints
from hypermetric.plan.signature_record import BLANK, SEP, digest, output_parts
from hypermetric.plan.signature_task import Link, TaskRecord, may_be_covered
from hypermetric.plan.task_plan import JobRef, TaskPlan
from hypermetric.semantics.model import INPUT, Node, Output, Pure, TaskOutput


class FastDigests:
    """Planned digests of the jobs of a planned graph, from their refs; `digest` answers None for a job it
    does not cover. `upstream(id)` is the digest of another job of the graph (the signer's, kept)."""

    def __init__(self, jobs: PlannedJobs, root: str, upstream: Callable[[str], str]) -> None:
        self._ref = jobs.ref
        self._refs = jobs  # (`in`: whether a job is in the graph)
        self._root = root.rstrip("/") + "/"  # a value starting with it may name a job's file: not covered
        self._upstream = upstream
        self._tasks: dict[TaskPlan, TaskRecord | None] = {}  # (None: not covered) held, so never a reused id
        self._names = CaseNames()
        self._paths: dict[str, str] = {}  # task name -> task path
        self._labels: dict[tuple[str, str], str] = {}  # (task, output) -> label, where covered at every case
        self.fingerprint = Fingerprints(jobs.ref, jobs.needs, lambda plan: self._task_of(plan) is not None).of

    def _task_of(self, plan: TaskPlan) -> TaskRecord | None:
        try:
            return self._tasks[plan]
        except KeyError:
            task = self._tasks[plan] = self._task(plan)
            return task

    def digest(self, job_id: str) -> str | None:
        """The job's planned digest (its upstream jobs' come from `upstream`), or None when not covered."""
        ref = self._ref(job_id)
        try:
            task = self._tasks[ref.plan]
        except KeyError:
            task = self._task_of(ref.plan)
        if task is None:
            return None
        plain = task.plain
        if plain is not None:  # a key the case lacks is the task's default, as in `ref.case`
            key = dict(ref.pairs).get
            args = job_id, *[table[key(axis, default)] for axis, default, table in task.slots]
            if task.links:
                upstream = self._links(ref, task.links)
                if upstream is None:
                    return None
                args += upstream
            for node, reduced in task.reductions:
                entries = self._entries(ref, node, reduced)
                if entries is None:
                    return None
                args += (entries,)
            h = BLANK.copy()  # (`digest`, inline)
            h.update((plain % args).encode())
            return h.hexdigest()
        head = task.head
        if head is None:
            head = SEP.join([task.script, *output_parts(ref.files.items())])
        return self._general(ref, task, head)

    def _links(self, ref: JobRef, links: list[Link]) -> tuple[str, ...] | None:
        """The digest of each upstream output the job reads; None when one is not covered."""
        digests = []
        for node, axes in links:  # the upstream case as `node.at(ref.case)` finds it, without making the value
            if axes is None:
                pairs = node.pairs(ref.case, node.fixed)
            else:  # canonical pairs leave out default keys, as the upstream case must
                pairs = tuple([pair for pair in ref.pairs if pair[0] in axes])
            if (node.task, node.output) in self._labels:  # a covered output with the same file at every case
                up_id = self._names.job_id(self._paths[node.task], pairs)
                if up_id not in self._refs:
                    return None
            else:
                found = self._output(node.task, node.output, pairs, False)
                if found is None:
                    return None
                up_id = found[1]
            digests.append(self._upstream(up_id))
        return tuple(digests)

    def _entries(self, ref: JobRef, node: Output, reduced: frozenset[str]) -> str | None:
        """A reduction's part of the record: `entry:digest` of each entry, sorted, as the full computation
        finds them (an entry is named by its case over the reduced axes, the upstream task's own)."""
        found: dict[str, str] = {}
        count = 0
        names, refs, path, max_length = self._names, self._refs, None, ref.plan.max_length
        for pairs in node.upstream_cases(ref.case):
            if path is None:  # the first entry: whether the upstream output is covered
                if self._output(node.task, node.output, pairs, False) is None:
                    return None
                if (node.task, node.output) not in self._labels:  # its file differs from case to case
                    return None
                path = self._paths[node.task]
            up_id = names.job_id(path, pairs)
            if up_id not in refs:
                return None
            found[names.dirname([pair for pair in pairs if pair[0] in reduced], max_length)] = self._upstream(up_id)
            count += 1
        if len(found) != count:  # two entries with one name: left to the full computation
            return None
        return ",".join([f"{entry}:{up}" for entry, up in sorted(found.items())])

    def _task(self, plan: TaskPlan) -> TaskRecord | None:
        """The task's shared part, or None when its jobs are not covered: an input not on the local file
        system, an output variable that is not an output, or a plain text below the output root."""
        root = self._root
        if plan.root.rstrip("/") + "/" != root or any(fs != LOCAL for *_, fs in plan.inputs):
            return None
        # Known before evaluating a reduction's many entries: only a reduction the format covers is.
        nodes: list[Node] = [node for _, node, _, text, _ in plan.inputs
                             if text is None and not isinstance(node, Output)]
        nodes += [var.node for deco in plan.decorators for var in deco.variables]
        if not all(map(may_be_covered, nodes)):
            return None
        task = TaskRecord(plan)
        if not set(plan.output_vars) <= task.outputs or (task.reduces and task.plain is None):
            return None
        for _, _, _, text, _ in plan.inputs:
            texts = [text] if isinstance(text, str) else text[2].values() if text is not None else []
            if any(t.startswith(root) for t in texts):
                return None
        return task

    def _general(self, ref: JobRef, task: TaskRecord, head: str) -> str | None:
        """The digest of a job whose inputs are found at its case: values and upstream outputs, decorated or
        not, exactly as the full computation names them (see `Signer._compute`)."""
        record = self._record(ref, task)
        if record is None:
            return None
        values, inputs = record
        parts = [ref.id, head]
        parts += [f"v:{k}={v}" for k, v in sorted(values.items())]
        parts += [f"i:{k}={self._upstream(up[1])}" for k, up in sorted(inputs.items())]
        return digest(SEP.join(parts).encode())

    def _record(self, ref: JobRef, task: TaskRecord) -> tuple[dict[str, str], dict[str, tuple]] | None:
        """(values, inputs by name -> (label, upstream id, path)) as the job's `built_from` would hold them;
        None when some input is not covered."""
        plan, case = ref.plan, ref.case
        layered = bool(plan.decorators)
        variables: dict[str, str | tuple] = {}
        links: dict[str, tuple] = {}
        for name, node, kind, text, _ in plan.inputs:
            if text is None:
                found = self._value(node.at(case), layered)
                if found is None:
                    return None
                if kind == INPUT and not isinstance(found, str) and name not in links:
                    links[name] = found
                variables[name] = found
            else:
                variables[name] = text if isinstance(text, str) else text[2][case.get(text[0], text[1])]
        pairs: set[tuple[str, str]] = set()  # a decorator's argument reaches the task's variables too
        named: list[tuple[str, str, str]] = []  # plain decorator arguments: (name, name by its layer, text)
        for deco in plan.decorators:
            for var in deco.variables:
                found = self._value(var.node.at(case), layered)
                if found is None:
                    return None
                if isinstance(found, str):
                    named.append((var.name, f"{deco.name}.{var.name}", found))
                    pairs.add((var.name, found))
                else:
                    links.setdefault(var.name, found)
                    pairs.add((var.name, found[2]))
        values: dict[str, str] = {}
        inputs: dict[str, tuple] = {}
        for name, qualified, text in named:
            if name not in links:
                values[qualified] = text
        for name, found in variables.items():
            if name in task.outputs or name in links:
                continue
            text = found if isinstance(found, str) else found[2]
            if (name, text) in pairs:
                continue
            if isinstance(found, str):
                values[name] = found
            else:
                inputs[name] = found
        inputs.update(links)
        return values, inputs

    def _value(self, value: object, with_path: bool) -> str | tuple | None:
        """A plain value's text, an upstream output as (label, id, path); None for what is not covered."""
        if type(value) is Pure:
            return None if value.text.startswith(self._root) else value.text
        if type(value) is TaskOutput:
            return self._output(value.task, value.output, value.pairs, with_path)
        return None

    def _output(self, task: str, output: str, pairs: Pairs, with_path: bool) -> tuple | None:
        """(label, id, path or "") of an upstream output, as `Signer._upstream` and `upstream_label` find them
        by path: covered when the output is a plain file name in its job's directory on the local file system."""
        path = self._paths.get(task)
        if path is None:
            path = self._paths[task] = task_path(task)
        up_id = self._names.job_id(path, pairs)
        try:
            up = self._ref(up_id)
        except KeyError:
            return None
        key = (task, output)
        label = self._labels.get(key)
        if label is None:
            label = _label(up, task, output)
            if label is None:
                return None
            if up.plan.files is not None:
                self._labels[key] = label
        return label, up_id, up.output(output)[1] if with_path else ""


def _label(up: JobRef, task: str, output: str) -> str | None:
    """`task.output` naming the first output with the same file (as `signature_record.upstream_label`), or
    None when the output is not a plain file name on the local file system."""
    plan = up.plan
    if plan.name != task or output in plan.output_fs:
        return None
    files = up.files
    rel = files.get(output)
    if rel is None or "/" in rel or rel in ("", ".", ".."):
        return None
    return next(f"{plan.name}.{name}" for name, file in files.items() if file == rel)
