"""`RayExecutor`: each task node is a set of Ray actors holding a copy of the node's task.

The driver submits a batch's calls to every node at once, in topological order, passing each node the object
references of its inputs' calls: Ray then moves the data from actor to actor as each call finishes, with no
round trip through the driver and no queue actors to poll, so a batch is never held back between nodes.
A node with several workers gives each call to its least busy actor.

Actors take Ray's default resources unless the node asks for CPUs (`n_cpu_per_worker`): a CPU to be placed
and none held while they run, so that a DAG with more nodes than the cluster has CPUs can still start (a
node's actors mostly wait for their inputs). Where nodes do ask for CPUs, a DAG that asks for more than the
cluster has is refused at `start()` rather than left waiting forever for actors Ray cannot place.

Ray is imported only when this executor is made; the driver joins the cluster at RAY_ADDRESS or starts a
local one, as the evaluation runtime does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Any

from hypermetric.flow.graph import Graph, NodeHandle
from hypermetric.flow.local import Outcome


class NodeActor:
    """One worker of a node: calls the task's `do()` with a batch's inputs and the node's keyword arguments."""

    def __init__(self, task: Any, task_kwargs: dict[str, Any]) -> None:
        self._task, self._kwargs = task, task_kwargs

    def do(self, *inputs: Any) -> Any:
        return self._task.do(*inputs, **self._kwargs)


@functools.cache
def _actor_class() -> Any:
    import ray

    return ray.remote(max_restarts=0)(NodeActor)


class RayExecutor:
    """The executor interface on Ray actors (see `LocalExecutor` for the methods)."""

    def __init__(self, graph: Graph) -> None:
        import ray

        from hypermetric.runtime.drive.actors import ensure_ray

        ensure_ray()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        _check_cpus(graph, cpus)
        self._actors: dict[NodeHandle, list[Any]] = {}
        self._load: dict[NodeHandle, list[int]] = {}
        self._worker_of: dict[Any, int] = {}
        for node in graph.nodes:
            if not node.is_source:
                self._actors[node] = _start_node(node, node.n_workers or max(1, cpus))
                self._load[node] = [0] * len(self._actors[node])

    def workers(self, node: NodeHandle) -> int:
        return len(self._actors[node])

    def source(self, part: Any, shared: bool) -> Any:
        import ray

        # A part read by several calls or by a sink goes to the object store once; one read by a single call
        # travels with it.
        return ray.put(part) if shared else part

    def submit(self, node: NodeHandle, args: list[Any]) -> Any:
        load = self._load[node]
        worker = load.index(min(load))
        handle = self._actors[node][worker].do.remote(*args)
        load[worker] += 1
        self._worker_of[handle] = worker
        return handle

    def release(self, node: NodeHandle, handle: Any) -> None:
        worker = self._worker_of.pop(handle, None)
        if worker is not None:
            self._load[node][worker] -= 1

    def wait(self, handles: Collection[Any]) -> list[Any]:
        import ray

        pending = list(handles)
        ready, rest = ray.wait(pending, num_returns=1)
        if rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready.extend(more)
        return ready

    def outcome(self, handle: Any) -> Outcome:
        import ray
        from ray import exceptions

        try:
            return Outcome(ray.get(handle))
        except exceptions.RayTaskError as error:
            cause = error.cause if isinstance(error.cause, BaseException) else error.as_instanceof_cause()
            return Outcome(error=cause)
        except exceptions.RayError as error:  # the actor died, or the node's task could not be loaded
            return Outcome(error=RuntimeError(_plain(error)))

    def stop(self) -> None:
        import ray

        for actors in self._actors.values():
            for actor in actors:
                try:
                    ray.kill(actor, no_restart=True)
                except Exception:  # already gone: nothing left to stop
                    continue
        self._actors.clear()


def _start_node(node: NodeHandle, workers: int) -> list[Any]:
    import ray

    actor_class = _actor_class()
    if node.n_cpu_per_worker is not None:
        actor_class = actor_class.options(num_cpus=node.n_cpu_per_worker)
    # The task goes to the object store once, however many workers read it.
    task = ray.put(node.task)
    return [actor_class.remote(task, dict(node.task_kwargs)) for _ in range(workers)]


def _check_cpus(graph: Graph, cpus: int) -> None:
    asked = sum((node.n_workers or cpus) * node.n_cpu_per_worker for node in graph.nodes
                if node.n_cpu_per_worker is not None)
    if asked > cpus:
        raise ValueError(f"the DAG's nodes ask for {asked:g} CPUs (n_workers x n_cpu_per_worker) but the Ray "
                         f"cluster has {cpus}; ask for fewer, or leave n_cpu_per_worker unset so that workers "
                         "hold no CPU while they run")


def _plain(error: BaseException) -> str:
    """The first line of a Ray error's message, without the terminal colour codes Ray puts in it."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__
