"""`job_params()`: the case and variables of the hypermetric job a Python task runs in (Hyperctl's
`get_job_params`), read from the `HYPERMAKE_JOB_*` variables the job's environment carries."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

JOB_ID = "HYPERMAKE_JOB_ID"
JOB_NAME = "HYPERMAKE_JOB_NAME"
JOB_CASE_JSON = "HYPERMAKE_JOB_CASE_JSON"
JOB_WD = "HYPERMAKE_JOB_WD"
JOB_ENV_VARS = "HYPERMAKE_JOB_ENV_VARS"


class NotInJobError(LookupError):
    """`job_params()` was called outside a hypermetric job."""


@dataclass(frozen=True, slots=True)
class JobParams:
    """A job's identity, case (non-default axis → key), working directory and variables (name → value)."""

    id: str
    name: str
    case: Mapping[str, str]
    workdir: Path
    variables: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        """A variable's value, or else the case key of an axis of that name (like Hyperctl's params dict)."""
        if key in self.variables:
            return self.variables[key]
        return self.case[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def _variables(text: str) -> dict[str, str]:
    """`k='v' k2='v 2'` pairs, shell-quoted, into a dict."""
    variables: dict[str, str] = {}
    for word in shlex.split(text):
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise ValueError(f"{JOB_ENV_VARS}: expected name=value, found {word!r}")
        variables[name] = value
    return variables


def _case(text: str) -> dict[str, str]:
    case = json.loads(text) if text.strip() else {}
    if not isinstance(case, dict):
        raise ValueError(f"{JOB_CASE_JSON}: expected a JSON object, found {text!r}")
    return {str(axis): str(key) for axis, key in case.items()}


def job_params(environ: Mapping[str, str] | None = None) -> JobParams:
    """The parameters of the current job, from `environ` (default: this process's environment)."""
    env = os.environ if environ is None else environ
    if JOB_ID not in env and JOB_NAME not in env:
        raise NotInJobError(f"not running inside a hypermetric job: {JOB_ID} and {JOB_NAME} are not set")
    return JobParams(
        id=env.get(JOB_ID, ""),
        name=env.get(JOB_NAME, ""),
        case=MappingProxyType(_case(env.get(JOB_CASE_JSON, ""))),
        workdir=Path(env.get(JOB_WD) or os.getcwd()),
        variables=MappingProxyType(_variables(env.get(JOB_ENV_VARS, ""))),
    )
