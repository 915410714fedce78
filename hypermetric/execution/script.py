"""The files and environment of one job run: decorator wrapping (`script`, `script.N`), the `args` file, and
the job's variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from hypermetric.plan.job import Job
from hypermetric.record import Record, setfield
from hypermetric.store.layout import SCRIPT, wrapped_script


class PreparedScript(Record):
    """The script files to write, in order (`script.0` ... then `script`), and the script variables.

    `variables` are the job's variables with each decorator layer's own variables and its `run` parameter
    (`script.k`) merged on top, inner layer first, so an outer layer wins a name clash, as in HyperMake.
    """

    __slots__ = ("files", "variables")
    files: tuple[tuple[str, str], ...]
    variables: dict[str, str]

    def __init__(self, files: tuple[tuple[str, str], ...], variables: dict[str, str]) -> None:
        setfield(self, "files", files)
        setfield(self, "variables", variables)


def wrap(job: Job) -> PreparedScript:
    """Apply the decorator layers (innermost first): `script.k` holds the text layer k wraps, as in HyperMake.

    All variables reach the whole process tree, so two layers binding one name (two decorators whose `run`
    parameter is `inner`, or one class used twice with different arguments) would see the outer layer's value.
    HM has that bug; here such a layer's script starts with one `export name='value' ...` line restoring its
    own values. Without a clash each `script.k` and `script` is the decorator's `run` body, byte for byte.
    """
    variables = dict(job.variables)
    if not job.decorators:
        return PreparedScript(((SCRIPT, job.script),), variables)
    own_values = []
    for level, layer in enumerate(job.decorators):
        own = dict(layer.variables)
        own[layer.param] = wrapped_script(level)
        own_values.append(own)
        variables.update(own)
    texts = [job.script] + [_rebind(own, variables) + layer.script
                            for own, layer in zip(own_values, job.decorators, strict=True)]
    names = [wrapped_script(level) for level in range(len(job.decorators))] + [SCRIPT]
    return PreparedScript(tuple(zip(names, texts, strict=True)), variables)


def _rebind(own: dict[str, str], merged: Mapping[str, str]) -> str:
    """`export k='v' ...` for this layer's values that the merged environment holds differently, or ``."""
    clashes = sorted(k for k, v in own.items() if merged.get(k) != v)
    if not clashes:
        return ""
    return "export " + " ".join(f"{k}={shell_quote(own[k])}" for k in clashes) + "\n"


def shell_quote(value: str) -> str:
    """`'value'` with each `'` written `'\\''`."""
    return "'" + value.replace("'", "'\\''") + "'"


def assignments(variables: Mapping[str, str]) -> list[str]:
    """`k='v'` for every variable, sorted by name."""
    return [f"{k}={shell_quote(variables[k])}" for k in sorted(variables)]


def args_text(variables: Mapping[str, str]) -> str:
    """The `args` file: sorted `k='v'` lines, each terminated by a newline."""
    return "".join(line + "\n" for line in assignments(variables))


def case_json(job: Job) -> str:
    """`HYPERMAKE_JOB_CASE_JSON`: compact JSON of the non-default pairs, keys sorted so that
    the text is the same on every run."""
    return json.dumps(dict(job.case), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def job_variables(job: Job, script_variables: Mapping[str, str], uuid: str) -> dict[str, str]:
    """The `HYPERMAKE_JOB_*` variables of one execution of `job`."""
    return {
        "HYPERMAKE_JOB_ID": job.id,
        "HYPERMAKE_JOB_DISPLAY_ID": job.display_id,
        "HYPERMAKE_JOB_NAME": job.name,
        "HYPERMAKE_JOB_UUID": uuid,
        "HYPERMAKE_JOB_CASE": job.case_text,
        "HYPERMAKE_JOB_CASE_JSON": case_json(job),
        "HYPERMAKE_JOB_WD": job.workdir,
        "HYPERMAKE_JOB_ENV_VARS": " ".join(assignments(script_variables)),
        "HYPERMAKE_JOB_WRAPPED_SCRIPTS": " ".join(wrapped_script(k) for k in range(len(job.decorators))),
    }


def run_variables(job: Job, prepared: PreparedScript, uuid: str) -> dict[str, str]:
    """Every variable the script sees on top of the parent environment; a later source wins:
    function and class defaults, call and class arguments, task inputs and outputs, decorator arguments.

    Script variables < prepared input paths (a reduction's variable is its folder in the job directory)
    < `HYPERMAKE_JOB_*`. This is also what `args` lists.
    """
    out = dict(prepared.variables)
    for link in job.inputs:
        if link.is_reduction and link.link:
            out[link.name] = os.path.join(job.workdir, link.name)
    out.update(job_variables(job, prepared.variables, uuid))
    return out
