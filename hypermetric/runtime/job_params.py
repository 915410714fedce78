"""`job_params()`: the case and variables of the hypermetric job a Python task runs in (Hyperctl's
`get_job_params`), read from the `HYPERMAKE_JOB_*` variables the job's environment carries.

A job of a batch file also carries its params as JSON (`HYPERMETRIC_JOB_PARAMS`), so that there `tol` is the
number 1 and not the text "1"; in a `.hm` pipeline's job every value is text, as the shell sees it.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

JOB_ID = "HYPERMAKE_JOB_ID"
JOB_NAME = "HYPERMAKE_JOB_NAME"
JOB_CASE_JSON = "HYPERMAKE_JOB_CASE_JSON"
JOB_WD = "HYPERMAKE_JOB_WD"
JOB_ENV_VARS = "HYPERMAKE_JOB_ENV_VARS"
JOB_PARAMS = "HYPERMETRIC_JOB_PARAMS"  # set by batch jobs (hypermetric/batch/planning.py)


class NotInJobError(LookupError):
    """`job_params()` was called outside a hypermetric job."""


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class JobParams(Mapping):
    """A job's identity, case (non-default axis → key), working directory, variables (name → value) and, in
    a batch job, its typed `params`. As a mapping (Hyperctl's params dict) it holds the params of a batch job,
    else the variables and the case keys of axes no variable shadows."""

    id: str
    name: str
    case: Mapping[str, str]
    workdir: Path
    variables: Mapping[str, str]
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __getitem__(self, key: str) -> Any:
        """A batch job's param, else a variable's value, else the case key of an axis of that name."""
        if self.params:
            return self.params[key]
        if key in self.variables:
            return self.variables[key]
        return self.case[key]

    def __iter__(self) -> Iterator[str]:
        if self.params:
            return iter(self.params)
        return iter({**dict.fromkeys(self.variables), **dict.fromkeys(self.case)})

    def __len__(self) -> int:
        return sum(1 for _ in self)


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


def _params(text: str) -> Mapping[str, Any]:
    if not text.strip():
        return _EMPTY
    params = json.loads(text)
    if not isinstance(params, dict):
        raise ValueError(f"{JOB_PARAMS}: expected a JSON object, found {text!r}")
    return MappingProxyType(params)


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
        params=_params(env.get(JOB_PARAMS, "")),
    )


get_job_params = job_params  # Hyperctl's name
