"""hypermetric: parameterized pipelines for ML evaluation (the HyperMake language, local and Ray execution)."""

from __future__ import annotations

__version__ = "0.1.0"

_RUNTIME_NAMES = {"runtime", "component", "Dataset", "Metric", "job_params"}


def __getattr__(name: str):
    # The evaluation runtime is imported lazily so that `import hypermetric` (and the CLI) stays light.
    if name in _RUNTIME_NAMES:
        from hypermetric import runtime as _runtime_pkg

        return getattr(_runtime_pkg, name)
    raise AttributeError(f"module 'hypermetric' has no attribute {name!r}")
