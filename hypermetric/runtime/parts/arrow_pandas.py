"""Arrow without pandas in the runtime's own processes, until something there imports pandas.

The first time pyarrow converts Python values (`pa.array` on a list, whatever its type) it asks whether pandas
is installed by importing it: 0.3-0.5 s of CPU in every fresh process where pandas is installed, which an
evaluator paid before its first batch while the workers waited for it. The runtime converts only plain
values it has made itself (lists of str, int, float, bool, bytes and None, with their type given), for which
pandas plays no part. So in the processes the runtime owns, pyarrow's first question is answered "no pandas"
without importing it, and the answer is put right the moment anything (a metric, the user's function) imports
pandas: from then on pyarrow treats pandas objects exactly as it would have.

A process-wide setting, kept for the process's life; `hypermetric.process_wide` lists it.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_PANDAS = "pandas"


def arrow_without_pandas() -> None:
    """Answers pyarrow's question about pandas without importing it, and watches for pandas to arrive
    (nothing to do where pandas is imported already, or pyarrow has asked already)."""
    shim = _shim()
    if shim is None or _PANDAS in sys.modules or any(isinstance(f, _PandasWatch) for f in sys.meta_path):
        return
    watch = _PandasWatch()
    sys.meta_path.insert(0, watch)
    watch.refusing = True
    try:
        shim.have_pandas  # noqa: B018 - asks now, and is told no (if it has not asked before)
    finally:
        watch.refusing = False


def _shim() -> Any:
    """pyarrow's lazy pandas importer (absent in a pyarrow without it: then nothing is changed)."""
    import pyarrow as pa

    return getattr(getattr(pa, "lib", None), "_pandas_api", None)


def _tell_arrow_pandas_is_here() -> None:
    shim = _shim()
    try:
        shim.pd  # noqa: B018 - asks again, imports nothing new (pandas is loaded) and turns the support on
    except ImportError:  # a pandas pyarrow does not support: as without the change
        pass


class _PandasWatch(importlib.abc.MetaPathFinder):
    """Refuses pandas while pyarrow asks; later, lets the normal finders import it and, once it is imported,
    tells pyarrow."""

    def __init__(self) -> None:
        self.refusing = False
        self._finding = False

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name != _PANDAS or self._finding:
            return None
        if self.refusing:
            raise ImportError("pandas is not imported for pyarrow's first question", name=name)
        self._finding = True
        try:
            spec = next((found for finder in sys.meta_path if finder is not self
                         and (found := _find(finder, name, path, target)) is not None), None)
        finally:
            self._finding = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _ThenTellArrow(spec.loader, self)
        return spec


def _find(finder: Any, name: str, path: Sequence[str] | None, target: ModuleType | None) -> ModuleSpec | None:
    find = getattr(finder, "find_spec", None)
    return None if find is None else find(name, path, target)


class _ThenTellArrow(importlib.abc.Loader):
    """Loads pandas with its own loader (which the module keeps), then tells pyarrow and stops watching."""

    def __init__(self, loader: Any, watch: _PandasWatch) -> None:
        self._loader, self._watch = loader, watch

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # the module and its spec name pandas's own loader, as usual
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if self._watch in sys.meta_path:
            sys.meta_path.remove(self._watch)
        _tell_arrow_pandas_is_here()
