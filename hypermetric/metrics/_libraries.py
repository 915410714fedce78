"""Importing a metric's library when it first scores, with an error that says how to install it.

The libraries behind the metrics are an optional extra, so that `import hypermetric`, the CLI and runs that
use none of these metrics never load them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL_HINT = "pip install 'hypermetric[metrics]'"


def library(module: str, distribution: str, metric: str) -> ModuleType:
    """`module`, imported; if it is absent, an ImportError naming the package and the extra that has it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{metric} needs the {distribution!r} package ({error}); install it with "
                          f"{INSTALL_HINT}") from None
