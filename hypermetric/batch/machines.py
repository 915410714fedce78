"""A machines file for `run --machines`: the SSH machines of the remote backend, for any pipeline.

It holds what a batch's `backend` holds, so one can be copied from the other: either the list of machines
itself, or an object `{type: remote, machines: [...], environments: {...}}`, whose `environments` every
machine gets (a machine's own win). JSON or YAML, chosen by the file's suffix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from hypermetric.batch.config import BATCH_SUFFIXES, read_data
from hypermetric.errors import UsageError
from hypermetric.execution.remote_config import Machine, environments, parse_machines
from hypermetric.suggest import help_did_you_mean

_FIELDS = ("type", "machines", "environments")


def load_machines(path: str) -> tuple[Machine, ...]:
    """The machines `path` lists; a missing file or a wrong field is a user error naming the file."""
    where = os.path.basename(path)
    if not path.lower().endswith(BATCH_SUFFIXES):
        raise UsageError(f"--machines {path}: expected a .json, .yml or .yaml file",
                         help='write e.g. machines.json: [{"connection": {"hostname": "h", "username": "u", '
                              '"key": "~/.ssh/id_ed25519"}, "slots": 2}]')
    if not os.path.isfile(path):
        raise UsageError(f"--machines {path}: no such file", help="name a JSON or YAML file of machines")
    data = read_data(path)
    if isinstance(data, list):
        return parse_machines(data, where)
    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: expected a list of machines or an object with `machines`, "
                         f"found {type(data).__name__}")
    for name in data:
        if name not in _FIELDS:
            raise UsageError(f"{where}: unknown field `{name}`", help=help_did_you_mean(str(name), _FIELDS))
    if data.get("type", "remote") != "remote":
        raise UsageError(f"{where}.type: the machines file is for the remote backend, found "
                         f"`{data['type']}`", help='write "type": "remote", or leave it out')
    shared = environments(data.get("environments"), f"{where}.environments")
    machines = parse_machines(data.get("machines"), where)
    return tuple(replace(m, environments=_merged(shared, m.environments)) for m in machines)


def _merged(shared: tuple[tuple[str, str], ...], own: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    names = {name for name, _ in own}
    return tuple(pair for pair in shared if pair[0] not in names) + own
