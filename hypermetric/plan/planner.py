"""The planner: targets -> `JobGraph`, exploring only the cases needed, each (task, case) built once.

Exploring a job finds the jobs it needs; building it resolves its variables, paths and input links into a
`Job`. Where no job can need more than its inputs to be explored (no services, no custom file systems, no
resources decorator to check), jobs are only explored while planning and built when first read from the
graph (`PlannedJobs`), so a dry run of a million cases never builds a million `Job`s."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial

from hypermetric.errors import CycleError
from hypermetric.model.case import CaseNames, Pairs
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import DecoratorLayer, FileSystemSpec, InputLink, Job
from hypermetric.plan.objects import ObjectSpecs
from hypermetric.plan.planned import PlannedJobs
from hypermetric.plan.reduction import Reduction, ReductionEntries, upstream_cases
from hypermetric.plan.resources import parse_resources
from hypermetric.plan.targets import Selection
from hypermetric.plan.task_plan import NO_RESOURCES, JobRef, TaskPlan
from hypermetric.process_wide import collector_paused, freeze_built
from hypermetric.record import replace
from hypermetric.semantics.model import (
    INPUT,
    LOCAL,
    Branch,
    InputFile,
    Node,
    Output,
    Pipeline,
    Pure,
    TaskOutput,
)


class Planner:
    """Builds jobs from a worklist, so deep chains need no recursion."""

    def __init__(self, pipeline: Pipeline, root: str | None = None) -> None:
        self.pipeline = pipeline
        self.root = os.path.normpath(root or pipeline.root)
        self.fs_roots = {**pipeline.fs_roots, "local": self.root}
        self.max_length = pipeline.max_file_name_length
        self.defaults = pipeline.defaults
        self._plans: dict[str, TaskPlan] = {}  # by task name
        self._refs: dict[str, JobRef] = {}  # by job id
        self._pending: list[JobRef] = []
        self._stops: dict[str, set[str]] = {}
        self._objects = ObjectSpecs(pipeline, self.root, self._input_path, self._output_path)
        self._clauses = CaseNames()
        self._built: dict[str, Job] = {}
        self._needs: dict[str, tuple[str, ...]] = {}  # the deps of every job that has some
        self._lazy = not pipeline.services and not pipeline.file_systems
        self._planned = False  # set once `plan` has explored every job
        self._reductions = Reduction(self._clauses, self.defaults, self.max_length)

    def ref(self, task: str, pairs: Pairs) -> JobRef:
        """The job of the task named `task` at canonical `pairs`, queued to be explored the first time (a job
        that reads no other job's output needs no exploring where jobs are built lazily)."""
        plan = self._plans.get(task) or self._plan_of(task)
        job_id = self._clauses.job_id(plan.path, pairs)
        found = self._refs.get(job_id)
        if found is None:
            found = self._refs[job_id] = JobRef(plan, pairs, job_id)
            if plan.explored or not self._lazy:
                self._pending.append(found)
        return found

    def _plan_of(self, task: str) -> TaskPlan:
        plan = self._plans.get(task)
        if plan is None:
            plan = self._plans[task] = TaskPlan(self.pipeline.tensors[task], self.fs_roots, self.max_length)
        return plan

    def plan(self, selections: Iterable[Selection], extra: Iterable[Selection] = ()) -> JobGraph:
        targets: dict[str, None] = {}
        for selection in selections:
            for pairs in selection.cases:
                targets[self.ref(selection.task, pairs).id] = None
        for selection in extra:
            for pairs in selection.cases:
                self.ref(selection.task, pairs)
        with collector_paused():  # many small acyclic objects: the collector would only slow this down
            self._explore()
            self._attach_stops()
            # Where a command owns the process, the graph lives until it ends and holds no cycles: frozen
            # (before the collector is back on), later collections need not walk its millions of objects.
            freeze_built()
        self._planned = True
        return JobGraph(PlannedJobs(self._refs, self._build, self._built, self._needs), list(targets), self.root)

    def _explore(self) -> None:
        """Find every job the queued ones need: explored only where that is all planning needs, else built."""
        pending, built, needs = self._pending, self._built, self._needs
        while pending:
            ref = pending.pop()
            if self._lazy and ref.plan.resources is None:
                deps = self._deps_of(ref)
            else:
                job = built[ref.id] = self._build(ref)
                deps = job.deps
            if deps:
                needs[ref.id] = deps

    def _deps_of(self, ref: JobRef) -> tuple[str, ...]:
        """The ids of the jobs `ref` reads outputs of (those `_build` would record), without building it."""
        case = ref.case
        deps: dict[str, None] = {}  # in the order found: nearly sorted already for a reduction
        for node in ref.plan.explored:
            leaf = _leaf(node, case)
            if isinstance(leaf, Output):  # the common reference: its upstream cases, no values built
                deps.update(dict.fromkeys(self._ids(leaf, case)))
                continue
            value = leaf.at(case)
            if isinstance(value, TaskOutput):
                deps[self.ref(value.task, value.pairs).id] = None
        return tuple(sorted(deps)) if deps else ()

    def _ids(self, ref: Output, case: dict[str, str]) -> list[str]:
        """The ids of the jobs reference `ref` reads at `case` (refs made and queued as `ref` does), named in
        one loop from their case strings (plan/reduction.py)."""
        plan = self._plans.get(ref.task) or self._plan_of(ref.task)
        path, refs, pending = plan.path, self._refs, self._pending
        queue = bool(plan.explored) or not self._lazy
        ids = []
        for pairs, text in upstream_cases(ref, case, self._clauses):
            job_id = f"{path}?{text}" if text else path
            found = refs.get(job_id)
            if found is None:
                found = refs[job_id] = JobRef(plan, pairs, job_id)
                if queue:
                    pending.append(found)
            ids.append(found.id)
        return ids

    def _build(self, ref: JobRef) -> Job:
        plan, case = ref.plan, ref.case
        relpath = ref.relpath
        workdir = f"{self.root}/{relpath}"
        variables: dict[str, str] = {}
        links: dict[str, InputLink] = {}
        deps: set[str] = set()
        for name, node, kind, text, fs in plan.inputs:
            if isinstance(text, str):
                variables[name] = text
            elif text is not None:
                axis, default, table = text
                variables[name] = table[case.get(axis, default)]
            else:
                variables[name] = self._realise(name, node, case, relpath, deps, links, kind == INPUT, fs)
        files = ref.files
        for name in plan.output_vars:
            variables[name] = plan.output_path(relpath, files[name], name)
        layers = []
        for deco in plan.decorators:
            values = tuple((v.name, self._realise(v.name, v.node, case, relpath, deps, links, True))
                           for v in deco.variables)
            layers.append(DecoratorLayer(deco.name, deco.script, deco.param, values))
        resources = NO_RESOURCES
        if plan.resources is not None:
            resources = parse_resources(dict(layers[plan.decorators.index(plan.resources)].variables),
                                        plan.resources.span)
        file_systems = self._file_systems(plan, links.values())
        for service in plan.services:
            self._use_service(service, ref, deps)
        for spec in file_systems:
            if self.pipeline.file_systems[spec.name].service:
                self._use_service(spec.name, ref, deps)
        return Job(
            id=ref.id, name=plan.name, case=ref.pairs, full_case=tuple([(a, case[a]) for a in plan.axes]),
            relpath=relpath, workdir=workdir, script=plan.script, variables=tuple(variables.items()),
            outputs=tuple(files.items()), inputs=tuple(links.values()) if links else (),
            decorators=tuple(layers) if layers else (), deps=self._deps_built(ref, deps),
            ephemeral=plan.ephemeral, is_package=plan.is_package, resources=resources,
            runner=self._objects.runner(plan.runner),
            output_fs=plan.output_fs_items, file_systems=file_systems, exec_fs=plan.exec_fs,
        )

    def _realise(self, name: str, node: Node, case: dict[str, str], relpath: str, deps: set[str],
                 links: dict[str, InputLink], link: bool, fs: str = LOCAL) -> str:
        """The variable's text; records dependencies and the inputs to prepare in the job directory on `fs`,
        where the task expects the value (the original's path when it lives there, else the copy's)."""
        leaf = _leaf(node, case)
        if isinstance(leaf, Output) and leaf.reduced:
            return self._reduction(name, leaf, case, relpath, deps, links, fs)
        value = leaf.at(case)
        if isinstance(value, Pure):
            return value.text
        if isinstance(value, TaskOutput):
            upstream = self.ref(value.task, value.pairs)
            deps.add(upstream.id)
            file, path = upstream.output(value.output)
            source_fs = upstream.plan.output_fs.get(value.output, LOCAL)
            source = f"{upstream.relpath}/{file}"
        elif isinstance(value, InputFile):
            source_fs, source = value.fs, value.path
            path = self._input_path(value)
        else:  # only a reference with reduced axes gives a reduction, and it went above
            raise TypeError(f"unexpected value {value!r}")
        if not link:
            return path
        if name not in links:
            links[name] = InputLink(name, target=path, fs=fs, source_fs=source_fs,
                                    source=source if source_fs != LOCAL else None)
        return path if source_fs == fs else self._copy_path(name, fs, relpath)

    def _input_path(self, value: InputFile) -> str:
        """The absolute form of `"path"@fs`: relative paths are under the file system's root."""
        if os.path.isabs(value.path) or "://" in value.path:
            return value.path
        root = self.fs_roots.get(value.fs, self.root)
        if value.fs == LOCAL:
            return os.path.normpath(os.path.join(root, value.path))
        return f"{root.rstrip('/')}/{value.path}" if root else value.path

    def _copy_path(self, name: str, fs: str, relpath: str) -> str:
        """Where input `name` lands in the job's directory on `fs`: `<fs root>/<job path>/<name>`."""
        if fs == LOCAL:
            return f"{self.root}/{relpath}/{name}"
        root = self.fs_roots[fs].rstrip("/")
        return f"{root}/{relpath}/{name}" if root else f"{relpath}/{name}"

    def _reduction(self, name: str, ref: Output, case: dict[str, str], relpath: str, deps: set[str],
                   links: dict[str, InputLink], fs: str = LOCAL) -> str:
        """A folder with one entry per reduced case, named by its case string over the reduced axes; the
        entries are made when first read (plan/reduction.py)."""
        if name not in links:
            upstream = self._plans.get(ref.task) or self._plan_of(ref.task)
            entries = ReductionEntries(partial(self._reductions.entries, ref, case, upstream))
            links[name] = InputLink(name, is_reduction=True, entries=entries, fs=fs)
        if not (self._planned and self._lazy):  # else the planner's table has them (`_deps_built`)
            deps.update(self._ids(ref, case))
        return self._copy_path(name, fs, relpath)

    def _deps_built(self, ref: JobRef, deps: set[str]) -> tuple[str, ...]:
        """A built job's deps: from the planner's table once it is whole (after planning, where jobs are built
        lazily, every job that reads another job's output was explored: `_deps_of` walks the same references),
        else those its values named."""
        if self._planned and self._lazy:
            return self._needs.get(ref.id, ())
        return tuple(sorted(deps)) if deps else ()

    def _use_service(self, path: str, ref: JobRef, deps: set[str]) -> None:
        service = self.pipeline.services.get(path)
        if service is None or ref.plan.name in (service.start, service.stop):
            return
        deps.add(self.ref(service.start, ()).id)
        self._stops.setdefault(self.ref(service.stop, ()).id, set()).add(ref.id)

    def _attach_stops(self) -> None:
        """A service's `stop` job runs after every job that uses the service."""
        self._explore()
        if not self._stops:
            return
        # Services make every job built while planning (`_lazy` is off), stops included.
        for stop, users in self._stops.items():
            job = self._built[stop]
            after = tuple(sorted(users - set(job.deps)))
            self._built[stop] = replace(job, deps=tuple(sorted(set(job.deps) | users)), after=after)
            self._needs[stop] = self._built[stop].deps
        graph = JobGraph(self._built)
        if len(graph.order()) != len(self._built):
            raise CycleError("the job graph has a cycle through a service's `stop` task")

    def _file_systems(self, plan: TaskPlan, links: Iterable[InputLink]) -> tuple[FileSystemSpec, ...]:
        """The specs of every custom file system the job's inputs and outputs touch."""
        if not self.pipeline.file_systems:
            return ()
        names = set(plan.output_fs.values())
        names.add(plan.exec_fs)
        for link in links:
            names.update((link.fs, link.source_fs), (e.fs for e in link.entries))
        names.discard(LOCAL)
        return tuple(self._objects.file_system(n) for n in sorted(names)) if names else ()

    def _peek(self, task: str, pairs: Pairs) -> JobRef:
        """The ref of a job, without planning it (for a function default naming a task output)."""
        plan = self._plan_of(task)
        job_id = self._clauses.job_id(plan.path, pairs)
        return self._refs.get(job_id) or JobRef(plan, pairs, job_id)

    def _output_path(self, value: TaskOutput) -> str:
        return self._peek(value.task, value.pairs).output(value.output)[1]


def _leaf(node: Node, case: dict[str, str]) -> Node:
    """The constant or reference a value comes from at `case`: through dicts as `Branch.at` chooses."""
    while isinstance(node, Branch):
        node = node.branches[case.get(node.axis, node.default)]
    return node


def plan_jobs(pipeline: Pipeline, selections: Iterable[Selection], root: str | None = None,
              extra: Iterable[Selection] = ()) -> JobGraph:
    """The jobs the selections imply (the graph's targets), with every upstream job they need; `extra`
    selections are planned too without being targets."""
    return Planner(pipeline, root).plan(selections, extra)
