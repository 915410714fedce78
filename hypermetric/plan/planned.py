"""`PlannedJobs`: the planner's jobs by id, each `Job` built only when someone asks for it.

A large tensor plans a million jobs, and most commands need only a job's id, label, directory, output paths
and dependencies (`dry-run` lists them with their status). Those come from the job's `JobRef` (task, case) and the
planner's table of dependencies, which lists only the jobs that have some. The full `Job` (variables, paths,
input links) is built on first access and kept, so that execution sees one object per job, and a changed copy
stored back (`jobs[id] = replace(...)`) is what later readers get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping

from hypermetric.model.case import DEFAULT_DIRNAME, shorten
from hypermetric.plan.job import Job
from hypermetric.plan.task_plan import JobRef, TaskPlan


class PlannedJobs(MutableMapping[str, Job]):
    """Job id -> `Job`, built from its `JobRef` by `build` the first time it is read."""

    __slots__ = ("_build", "_built", "_refs", "needs")

    def __init__(self, refs: dict[str, JobRef], build: Callable[[JobRef], Job], built: dict[str, Job],
                 needs: dict[str, tuple[str, ...]]) -> None:
        self._refs = refs
        self._build = build
        self._built = built
        self.needs = needs  # id -> deps, for the jobs that have some (read-only to others)

    def __reduce__(self) -> tuple[type[dict], tuple[dict[str, Job]]]:
        """Pickled (to another process) as a plain dict of every job, built: the planner stays here."""
        return dict, (dict(self.items()),)

    def __getitem__(self, job_id: str) -> Job:
        job = self._built.get(job_id)
        if job is None:
            # Two threads may build the same job at once; the first stored (or a changed copy stored
            # meanwhile) wins, so every reader sees one object.
            job = self._built.setdefault(job_id, self._build(self._refs[job_id]))
        return job

    def __setitem__(self, job_id: str, job: Job) -> None:
        """Replace a planned job by a changed copy (a graph never gains jobs after planning)."""
        if job_id not in self._refs:
            raise KeyError(job_id)
        self._built[job_id] = job
        if job.deps:
            self.needs[job_id] = job.deps
        else:
            self.needs.pop(job_id, None)

    def __delitem__(self, job_id: str) -> None:
        raise TypeError("a planned graph's jobs cannot be removed")

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._refs

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def built_count(self) -> int:
        """How many jobs have been built so far (the rest are only refs)."""
        return len(self._built)

    def ref(self, job_id: str) -> JobRef:
        """The (task, case) a job was planned from, without building it (KeyError if not in the graph)."""
        return self._refs[job_id]

    def deps(self, job_id: str) -> tuple[str, ...]:
        """The ids of the jobs `job_id` needs, without building it."""
        if job_id not in self._refs:
            raise KeyError(job_id)
        return self.needs.get(job_id, ())

    def label(self, job_id: str) -> str:
        if self._built:
            job = self._built.get(job_id)
            if job is not None:
                return job.label
        return self._refs[job_id].label

    def workdir(self, job_id: str) -> str:
        if self._built:
            job = self._built.get(job_id)
            if job is not None:
                return job.workdir
        return _workdir(self._refs[job_id].plan, job_id)

    def local_outputs(self, job_id: str) -> tuple[str, ...] | None:
        """The paths of the job's outputs relative to its directory, as its `Job.outputs` has them, without
        building it; None when some output is on a custom file system (those are checked through it)."""
        if self._built:
            job = self._built.get(job_id)
            if job is not None:
                return None if job.output_fs else tuple(rel for _, rel in job.outputs)
        ref = self._refs[job_id]
        found = ref.plan.local_files
        return found if found is not None else _outputs_of(ref)

    def locate(self, job_id: str) -> tuple[str, tuple[str, ...] | None]:
        """`(workdir(job_id), local_outputs(job_id))` in one look-up: what the status of a done job needs,
        asked of every job of a large tensor."""
        if self._built and job_id in self._built:
            return self.workdir(job_id), self.local_outputs(job_id)
        ref = self._refs[job_id]
        plan = ref.plan
        found = plan.local_files
        return _workdir(plan, job_id), found if found is not None else _outputs_of(ref)


def _workdir(plan: TaskPlan, job_id: str) -> str:
    """The directory of the job of `plan` with id `job_id` (`relpath_of_id`, with the task's part made once)."""
    text = job_id[len(plan.path) + 1:]  # the case string, after `path?`
    if not text:
        return plan.workdirs + DEFAULT_DIRNAME
    if len(text) <= plan.max_length and text.isascii():
        return plan.workdirs + text
    return plan.workdirs + shorten(text, plan.max_length)


def _outputs_of(ref: JobRef) -> tuple[str, ...] | None:
    """The outputs' relative paths of a job whose task has them vary by case, or None (a custom file system)."""
    return None if ref.plan.output_fs else tuple(ref.files.values())
