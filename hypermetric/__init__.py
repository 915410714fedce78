"""hypermetric: parameterized pipelines for ML evaluation (the HyperMake language, local and Ray execution)."""

from __future__ import annotations

__version__ = "0.1.0"

_RUNTIME_NAMES = {"runtime", "component", "Dataset", "Metric", "job_params", "get_job_params"}


def __getattr__(name: str):
    # The evaluation runtime is imported lazily so that `import hypermetric` (and the CLI) stays light.
    if name in _RUNTIME_NAMES:
        import importlib

        package = importlib.import_module("hypermetric.runtime")
        # Importing the subpackage binds `hypermetric.runtime` to it (a module callable as `@runtime`).
        return package if name == "runtime" else getattr(package, name)
    raise AttributeError(f"module 'hypermetric' has no attribute {name!r}")
