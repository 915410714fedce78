"""The machines of the remote backend (Hyperctl's `RemoteMachineConfig`), read from plain JSON/YAML data."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from hypermetric.errors import UsageError


@dataclass(frozen=True, slots=True)
class Connection:
    """How to log in: `key` is a private key file; `password` needs `sshpass`; `ssh_args` are extra words."""

    hostname: str
    username: str | None = None
    port: int | None = None
    key: str | None = None
    password: str | None = None
    ssh_args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        user = f"{self.username}@" if self.username else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.hostname}{port}"


@dataclass(frozen=True, slots=True)
class Machine:
    """One machine: its connection, how many jobs it runs at once, extra environment, and its scratch folder."""

    connection: Connection
    slots: int = 1
    environments: tuple[tuple[str, str], ...] = ()
    workdir: str = "/tmp/hypermetric-remote"

    @property
    def name(self) -> str:
        return self.connection.label


def parse_machines(items: object, where: str) -> tuple[Machine, ...]:
    """`machines: [{connection: {...}, slots: N, environments: {...}, workdir: DIR}]` -> machines."""
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: `machines` must be a non-empty list",
                         help='write "machines": [{"connection": {"hostname": "h", "username": "u"}}]')
    return tuple(_machine(item, f"{where}.machines[{i}]") for i, item in enumerate(items))


def _machine(item: object, where: str) -> Machine:
    data = object_of(item, where)
    only_fields(data, where, ("connection", "slots", "environments", "workdir"))
    slots = data.get("slots", 1)
    if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
        raise UsageError(f"{where}.slots: expected a whole number of jobs >= 1, found {slots!r}")
    workdir = data.get("workdir", "/tmp/hypermetric-remote")
    if not isinstance(workdir, str) or not workdir.startswith("/"):
        raise UsageError(f"{where}.workdir: expected an absolute path, found {workdir!r}")
    return Machine(_connection(data.get("connection"), f"{where}.connection"), slots,
                   environments(data.get("environments"), f"{where}.environments"), workdir)


def _connection(item: object, where: str) -> Connection:
    data = object_of(item, where)
    only_fields(data, where, ("hostname", "username", "port", "key", "password", "ssh_args"))
    hostname = data.get("hostname")
    if not isinstance(hostname, str) or not hostname:
        raise UsageError(f"{where}.hostname: required, the machine's host name or address")
    for name in ("username", "key", "password"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise UsageError(f"{where}.{name}: expected a string, found {data[name]!r}")
    port = data.get("port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        raise UsageError(f"{where}.port: expected a port number, found {port!r}")
    args = data.get("ssh_args", ())
    words = tuple(shlex.split(args)) if isinstance(args, str) else args
    if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
        raise UsageError(f"{where}.ssh_args: expected a string or a list of strings")
    return Connection(hostname, data.get("username"), port, data.get("key"), data.get("password"), tuple(words))


def environments(item: object, where: str) -> tuple[tuple[str, str], ...]:
    """`{NAME: value}` -> pairs of strings (numbers and booleans written as JSON writes them)."""
    if item is None:
        return ()
    data = object_of(item, where)
    out = []
    for name, value in data.items():
        if not str(name).isidentifier():
            raise UsageError(f"{where}: `{name}` is not a valid environment variable name")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (dict, list)) or value is None:
            raise UsageError(f"{where}.{name}: expected a string or a number, found {value!r}")
        out.append((str(name), str(value)))
    return tuple(out)


def check_login(machine: Machine) -> None:
    """A password needs a client that can type it (`sshpass`); say so before any job starts."""
    if machine.connection.password is not None and shutil.which("sshpass") is None:
        raise UsageError(f"machine {machine.name}: password login needs `sshpass`, which is not installed",
                         help="install sshpass (e.g. `apt-get install sshpass`), or log in with a key: "
                              'replace "password" by "key": "~/.ssh/id_ed25519" in the connection')


def object_of(item: object, where: str) -> Mapping:
    """`item` if it is a JSON/YAML object; else a user error naming `where`."""
    if not isinstance(item, Mapping):
        raise UsageError(f"{where}: expected an object, found {type(item).__name__}")
    return item


def only_fields(data: Mapping, where: str, known: tuple[str, ...]) -> None:
    """A user error (with did-you-mean) for the first field of `data` that is not in `known`."""
    from hypermetric.suggest import help_did_you_mean

    for name in data:
        if name not in known:
            raise UsageError(f"{where}: unknown field `{name}`", help=help_did_you_mean(str(name), known))
