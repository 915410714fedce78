"""Preparing a job in its locked directory: inputs linked or transferred, script files and `args` written, and
the environment its script runs with.

What only some jobs need (moving inputs across custom file systems, which brings in the machinery that calls
them) is imported when such a job is prepared, so a run of plain local jobs never imports it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hypermetric.execution.staging import write_files, write_scripts
from hypermetric.plan.job import LOCAL

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hypermetric.execution.hooks import JobHooks, JobOptions
    from hypermetric.plan.job import Job


def prepare(job: Job, options: JobOptions, hooks: JobHooks, exclusive: bool = False) -> dict[str, str]:
    """Link or transfer inputs, write the script files and `args`; the full environment of the script. With
    `exclusive` (a job with no custom file systems), a script file or `args` found there already raises
    `FileExistsError` (see `staging.write_files`)."""
    if not job.file_systems:
        return environment(options, write_files(job, job.workdir, new_uuid(), exclusive))
    from hypermetric.execution.filesystems import Transfers
    from hypermetric.execution.links import link_input, needs_transfer

    transfers = Transfers(job, options.shell, hooks.on_spawn)
    transfers.make_dirs()
    for link in job.inputs:
        if link.link:
            if needs_transfer(link):
                transfers.prepare(link)
            else:
                link_input(job.workdir, link)
    # a reduction placed on a custom file system keeps the planner's path
    planned = dict(job.variables)
    kept = {link.name: planned[link.name] for link in job.inputs
            if link.is_reduction and link.link and link.fs != LOCAL and link.name in planned}
    return environment(options, write_scripts(job, job.workdir, new_uuid(), kept))


def environment(options: JobOptions, variables: Mapping[str, str]) -> dict[str, str]:
    """The script's environment: the parent's, the backend's extra variables, then the job's."""
    env = dict(options.base_env) if options.base_env is not None else os.environ.copy()
    env.update(options.env)
    env.update(variables)
    return env


def new_uuid() -> str:
    """A random (version 4) UUID in its usual text form, as `str(uuid.uuid4())` gives, without importing
    `uuid` (which imports `platform`)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

