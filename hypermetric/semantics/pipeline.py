"""Where `Pipeline` used to live: it is part of the model now (`hypermetric.semantics.model`)."""

from hypermetric.semantics.model.pipeline import Pipeline, PlanInfo, TaskInfo

__all__ = ["Pipeline", "PlanInfo", "TaskInfo"]
