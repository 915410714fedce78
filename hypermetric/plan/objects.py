"""Picklable descriptions of file-system and runner objects (`FileSystemSpec`, `RunnerSpec`) for the jobs."""

from __future__ import annotations

from collections.abc import Callable

from hypermetric.plan.job import FileSystemSpec, RunnerSpec, ShellFunction
from hypermetric.semantics.model import (
    Defaults,
    Functions,
    InputFile,
    Pipeline,
    Pure,
    Runner,
    TaskOutput,
    Value,
)


class ObjectSpecs:
    """Builds each spec once per planner. Function defaults become text: a plain string as it is, an input
    file as its absolute path, a task output (`sock=$start.sock`) as the absolute path of that output."""

    def __init__(self, pipeline: Pipeline, root: str, input_path: Callable[[InputFile], str],
                 output_path: Callable[[TaskOutput], str]) -> None:
        self.pipeline = pipeline
        self.root = root
        self._input_path = input_path
        self._output_path = output_path
        self._file_systems: dict[str, FileSystemSpec] = {}
        self._runners: dict[Runner, RunnerSpec] = {}  # by the runner itself, hashed by identity

    def file_system(self, name: str) -> FileSystemSpec:
        """The spec of custom file system `name` (its calls run in the invocation dir, upload/download in the
        local root)."""
        spec = self._file_systems.get(name)
        if spec is None:
            fs = self.pipeline.file_systems[name]
            copies = tuple((source, ShellFunction(f"copy_from_{source}_to_{name}", params, script,
                                                  self.texts(fs.defaults.get(f"copy_from_{source}", ()))))
                           for source, (params, script) in fs.copies.items())
            spec = self._file_systems[name] = FileSystemSpec(
                name, fs.root, self.functions(fs.functions, fs.defaults), fs.values + fs.variables,
                self.pipeline.cwd, self.root, copies)
        return spec

    def runner(self, runner: Runner | None) -> RunnerSpec | None:
        """The spec of a task's `@@runner`, or None."""
        if runner is None:
            return None
        spec = self._runners.get(runner)
        if spec is None:
            spec = self._runners[runner] = RunnerSpec(
                runner.name, self.functions(runner.functions, runner.defaults), runner.values + runner.variables,
                runner.refresh_interval, self.pipeline.cwd)
        return spec

    def functions(self, functions: Functions, defaults: Defaults) -> tuple[ShellFunction, ...]:
        return tuple(ShellFunction(op, params, script, self.texts(defaults.get(op, ())))
                     for op, (params, script) in functions.items())

    def texts(self, values: tuple[tuple[str, Value], ...]) -> tuple[tuple[str, str], ...]:
        """`(param, text)` for each default holding a single value (a reduction has no text: left out)."""
        out = []
        for param, value in values:
            if isinstance(value, Pure):
                out.append((param, value.text))
            elif isinstance(value, InputFile):
                out.append((param, self._input_path(value)))
            elif isinstance(value, TaskOutput):
                out.append((param, self._output_path(value)))
        return tuple(out)
