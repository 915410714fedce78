"""The output of semantic analysis, and all that the planner sees of it: a frozen, self-contained model of the
pipeline (axes, task tensors, plans, file-system, runner and service objects), with no scope and no syntax
tree inside. `hypermetric.semantics.analyzer` builds it from `.hm` files; tests may build it by hand."""

from hypermetric.semantics.model.objects import Defaults, FileSystem, Functions, Runner, Service
from hypermetric.semantics.model.pipeline import Pipeline, PlanInfo, Target, TargetIndex, TaskInfo
from hypermetric.semantics.model.tasks import (
    ARG,
    CLASS_PARAM,
    DECORATOR,
    DEFAULT,
    INPUT,
    OUTPUT,
    Binding,
    DecoratorSpec,
    TaskTensor,
)
from hypermetric.semantics.model.tensors import (
    Branch,
    Const,
    Node,
    Output,
    first_impure,
    is_pure,
    outputs,
    walk,
)
from hypermetric.semantics.model.values import LOCAL, InputFile, Multiple, Pairs, Pure, TaskOutput, Value

__all__ = [
    "ARG", "CLASS_PARAM", "DECORATOR", "DEFAULT", "INPUT", "LOCAL", "OUTPUT", "Binding", "Branch", "Const",
    "DecoratorSpec", "Defaults", "FileSystem", "Functions", "InputFile", "Multiple", "Node", "Output", "Pairs",
    "Pipeline", "PlanInfo", "Pure", "Runner", "Service", "TargetIndex", "Target", "TaskInfo", "TaskOutput",
    "TaskTensor", "Value", "first_impure", "is_pure", "outputs", "walk",
]
