"""raygent's model in hypermetric: batch `Task`s and streaming `DAG`s of them, on Ray actors or in-process.

`from hypermetric.flow import Task, DAG` is all a raygent user changes: a `Task` defines `do(batch,
**kwargs)` and runs over a list in batches (`Task.run`); a `DAG` wires tasks between sources and sinks and
streams data through them with a bound on the batches in flight. Nothing here imports Ray until a DAG starts
in parallel mode.
"""

from __future__ import annotations

from hypermetric.flow.dag import DAG
from hypermetric.flow.graph import NodeHandle, SinkQueue, SourceQueue
from hypermetric.flow.messages import BatchMessage, NodeFailed
from hypermetric.flow.task import Task

__all__ = ["DAG", "BatchMessage", "NodeFailed", "NodeHandle", "SinkQueue", "SourceQueue", "Task"]
