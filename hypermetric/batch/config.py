"""Hyperctl's batch configuration (`BatchApplicationConfig`), read from a JSON or YAML file and checked."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypermetric.errors import ParseError, UsageError
from hypermetric.execution.remote_config import Machine, environments, parse_machines
from hypermetric.execution.remote_config import object_of as _object
from hypermetric.execution.remote_config import only_fields as _only
from hypermetric.source import SourceFile, Span

BATCH_SUFFIXES = (".json", ".yml", ".yaml")
# `server`, `scheduler` and `version` configure Hyperctl's own daemon; they are accepted and have no effect.
_BATCH_FIELDS = ("name", "jobs", "job", "backend", "server", "scheduler", "batches_data_dir", "version")
_JOB_FIELDS = ("name", "params", "command", "working_dir", "outputs")
_BACKEND_FIELDS = ("type", "environments", "machines")


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One job: its name (None: named after its params), typed params, shell command, working directory and
    declared output files (name -> path relative to the job directory; our addition, for `results`)."""

    name: str | None
    params: Mapping[str, Any]
    command: str
    working_dir: str | None = None
    outputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class BatchConfig:
    path: str
    name: str
    jobs: tuple[BatchJob, ...]
    backend: str = "local"
    environments: tuple[tuple[str, str], ...] = ()
    machines: tuple[Machine, ...] = ()
    data_dir: str | None = None


def is_batch_file(path: str) -> bool:
    return path.lower().endswith(BATCH_SUFFIXES)


def read_data(path: str) -> Any:
    """The file's JSON or YAML document; a syntax error points at its line and column."""
    source = SourceFile.read(path)
    if path.lower().endswith(".json"):
        try:
            return json.loads(source.text)
        except json.JSONDecodeError as e:
            raise ParseError(f"invalid JSON: {e.msg}", Span(source, e.pos, e.pos + 1),
                             help="check the brackets, commas and quotes around this place") from None
    import yaml

    try:
        return yaml.safe_load(source.text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        span = None
        if mark is not None:
            offset = source.line_starts[min(mark.line, len(source.line_starts) - 1)] + mark.column
            span = Span(source, offset, offset + 1)
        problem = getattr(e, "problem", None) or str(e)
        raise ParseError(f"invalid YAML: {problem}", span, help="check the indentation and the `:` after each key") from None


def load_batch(path: str) -> BatchConfig:
    data = _object(read_data(path), os.path.basename(path))
    where = os.path.basename(path)
    _only(data, where, _BATCH_FIELDS)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: the batch needs a `name`", help='add "name": "my_batch" at the top level')
    jobs = data.get("jobs", data.get("job"))
    if not isinstance(jobs, list) or not jobs:
        raise UsageError(f"{where}: `jobs` must be a non-empty list",
                         help='write "jobs": [{"name": "j1", "params": {"tol": 1}, "command": "python x.py"}]')
    backend = _object(data.get("backend") or {"type": "local"}, f"{where}.backend")
    _only(backend, f"{where}.backend", _BACKEND_FIELDS)
    kind = backend.get("type", "local")
    if kind not in ("local", "remote"):
        raise UsageError(f"{where}.backend.type: unknown backend `{kind}`", help='use "local" or "remote"')
    machines = parse_machines(backend.get("machines"), f"{where}.backend") if kind == "remote" else ()
    data_dir = data.get("batches_data_dir")
    if data_dir is not None and not isinstance(data_dir, str):
        raise UsageError(f"{where}.batches_data_dir: expected a directory path, found {data_dir!r}")
    return BatchConfig(os.path.abspath(path), name,
                       tuple(_job(item, f"{where}.jobs[{i}]") for i, item in enumerate(jobs)), kind,
                       environments(backend.get("environments"), f"{where}.backend.environments"), machines,
                       data_dir)


def _job(item: object, where: str) -> BatchJob:
    data = _object(item, where)
    _only(data, where, _JOB_FIELDS)
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise UsageError(f"{where}.name: expected a non-empty string, found {name!r}")
    params = _object(data.get("params", {}), f"{where}.params")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise UsageError(f"{where}.params: `{key}` is not a valid parameter name",
                             help="use letters, digits and `_`, not starting with a digit: the name is also "
                                  "the job's environment variable and the axis of `results`")
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise UsageError(f"{where}: the job needs a `command`", help='add "command": "python my_job.py"')
    working_dir = data.get("working_dir")
    if working_dir is not None and not isinstance(working_dir, str):
        raise UsageError(f"{where}.working_dir: expected a directory path, found {working_dir!r}")
    return BatchJob(name, dict(params), command, working_dir, _outputs(data.get("outputs"), f"{where}.outputs"))


def _outputs(item: object, where: str) -> tuple[tuple[str, str], ...]:
    from hypermetric.store.layout import is_reserved

    if item is None:
        return ()
    out = []
    for name, path in _object(item, where).items():
        if not isinstance(name, str) or not name.isidentifier():
            raise UsageError(f"{where}: `{name}` is not a valid output name")
        parts = path.split("/") if isinstance(path, str) else []
        if not parts or path.startswith("/") or ".." in parts or not all(parts) or is_reserved(parts[0]):
            raise UsageError(f"{where}.{name}: `{path}` must be a file path inside the job directory",
                             help="write a relative path such as `metrics.json`, not one the job protocol "
                                  "writes itself (stdout, stderr, exitcode, job.json, args, script)")
        out.append((name, path))
    return tuple(out)
