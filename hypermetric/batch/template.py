"""Hyperctl's job template (`JobTemplateConfig`): params with lists of values, expanded into a batch with
one job for every combination (the last param varying fastest, as Hyperctl's `generate` does)."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from hypermetric.batch.config import read_data
from hypermetric.errors import UsageError
from hypermetric.model.case import DEFAULT_DIRNAME, case_string
from hypermetric.suggest import help_did_you_mean

_FIELDS = ("name", "params", "command", "working_dir", "outputs", "backend", "batches_data_dir", "server",
           "scheduler", "version")
_COPIED = ("backend", "batches_data_dir", "server", "scheduler", "version")


def expand_template(path: str) -> dict[str, Any]:
    """The batch configuration (as JSON data) a template file describes."""
    where = os.path.basename(path)
    data = read_data(path)
    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: expected a mapping of fields (params, command, ...)")
    for name in data:
        if name not in _FIELDS:
            raise UsageError(f"{where}: unknown field `{name}`", help=help_did_you_mean(str(name), _FIELDS))
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise UsageError(f"{where}: the template needs a `command`", help="add `command: python3 cli.py`")
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        raise UsageError(f"{where}.params: expected a mapping of param names to lists of values")
    choices = {str(name): _values(values, f"{where}.params.{name}") for name, values in params.items()}
    name = data.get("name") or _default_name(path)
    jobs = [_job(dict(zip(choices, combo)), data) for combo in itertools.product(*choices.values())]
    batch: dict[str, Any] = {"name": name, "jobs": jobs}
    batch.update((key, data[key]) for key in _COPIED if key in data)
    return batch


def write_batch(batch: Mapping[str, Any], output: str | None) -> str:
    """The batch as indented JSON, written to `output` (created with its folders) unless None."""
    text = json.dumps(batch, indent=4, ensure_ascii=False) + "\n"
    if output is not None:
        folder = os.path.dirname(os.path.abspath(output))
        os.makedirs(folder, exist_ok=True)
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def job_name(params: Mapping[str, Any]) -> str:
    """`learning_rate=0.1&max_depth=3`: every param, sorted by name, values encoded as in case directories."""
    from hypermetric.batch.frontend import key_text

    return case_string(sorted((n, key_text(v)) for n, v in params.items())) or DEFAULT_DIRNAME


def _job(params: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = {"name": job_name(params), "params": params, "command": data["command"]}
    for key in ("working_dir", "outputs"):
        if data.get(key) is not None:
            job[key] = data[key]
    return job


def _values(values: object, where: str) -> list[Any]:
    if not isinstance(values, list):
        return [values]  # a single value: every job gets it
    if not values:
        raise UsageError(f"{where}: an empty list makes no jobs", help="give at least one value")
    return values


def _default_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return re.sub(r"\W", "_", stem) or "batch"
