"""Runs one job's script on a remote machine over SSH; the remote backend makes this the job's process.

It runs in the job directory with the job's environment, as `python -m hypermetric.execution.remote_run
MACHINE_JSON SHELL... script`: it ships the directory (input links as the files they point to) to a fresh
scratch folder on the machine, runs the script there with the variables of `args` (paths inside the job
directory rewritten to the scratch folder) and the machine's environment, passes the script's output and exit
status through, gathers every file the script made back into the job directory, and removes the scratch
folder. SIGTERM or SIGINT stops the remote process group before this process exits.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
import tarfile
import uuid

from hypermetric.execution.remote_config import Connection, Machine, environments
from hypermetric.store.layout import ARGS, LOCK, STDERR, STDOUT

_PID = ".remote-pid"
_REMOTE_ARGS = ".remote-args"


def ssh_words(connection: Connection) -> list[str]:
    """The `ssh` command line that reaches the machine (`sshpass -e` first when it logs in with a password)."""
    words = ["ssh", "-o", "ServerAliveInterval=30"]
    if connection.password is None:
        words += ["-o", "BatchMode=yes"]
    if connection.port:
        words += ["-p", str(connection.port)]
    if connection.key:
        words += ["-i", os.path.expanduser(connection.key), "-o", "IdentitiesOnly=yes"]
    if connection.username:
        words += ["-l", connection.username]
    words += [*connection.ssh_args, connection.hostname]
    return ["sshpass", "-e", *words] if connection.password is not None else words


def machine_json(machine: Machine) -> str:
    c = machine.connection
    return json.dumps({"connection": {"hostname": c.hostname, "username": c.username, "port": c.port,
                                      "key": c.key, "ssh_args": list(c.ssh_args)},
                       "environments": dict(machine.environments), "workdir": machine.workdir})


def _machine(text: str) -> Machine:
    data = json.loads(text)
    c = data["connection"]
    connection = Connection(c["hostname"], c["username"], c["port"], c["key"], os.environ.get("SSHPASS"),
                            tuple(c["ssh_args"]))
    return Machine(connection, 1, environments(data["environments"], "machine"), data["workdir"])


def _remote_variables(local: str, remote: str) -> str:
    """`args` with the job directory's paths (and the inputs linked into it) pointing into the scratch folder."""
    with open(ARGS, encoding="utf-8") as f:
        pairs = [word.partition("=") for word in shlex.split(f.read())]
    links = {os.path.realpath(os.path.join(local, name)): f"{remote}/{name}"
             for name in os.listdir(".") if os.path.islink(name)}
    lines = []
    for name, _, value in pairs:
        if value == local or value.startswith(local + "/"):
            value = remote + value[len(local):]
        value = links.get(os.path.realpath(value), value) if value.startswith("/") else value
        lines.append(f"export {name}={shlex.quote(value)}\n")
    return "".join(lines)


def _bundle(remote: str, local: str, env: tuple[tuple[str, str], ...]) -> tuple[bytes, list[str]]:
    """A tar of the job directory (links followed) plus the remote variables; the names it holds."""
    buffer = io.BytesIO()
    names = [n for n in sorted(os.listdir(".")) if n not in (LOCK, STDOUT, STDERR)]
    with tarfile.open(fileobj=buffer, mode="w", dereference=True) as tar:
        for name in names:
            tar.add(name)
        text = _remote_variables(local, remote) + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env)
        info = tarfile.TarInfo(_REMOTE_ARGS)
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue(), [*names, _REMOTE_ARGS]


def main(argv: list[str]) -> int:
    machine, shell = _machine(argv[0]), argv[1:]
    ssh = ssh_words(machine.connection)
    remote = f"{machine.workdir}/{uuid.uuid4().hex}"
    q = shlex.quote(remote)
    data, shipped = _bundle(remote, os.getcwd(), machine.environments)
    sent = subprocess.run([*ssh, f"mkdir -p {q} && tar xf - -C {q}"], input=data, stdout=subprocess.DEVNULL)
    if sent.returncode != 0:
        sys.stderr.write(f"hypermetric: cannot ship the job to {machine.name} (ssh exit {sent.returncode})\n")
        return 255
    stop = _stopper(ssh, q)
    try:
        # The script leads a process group of its own, whose id it records, so that a stop reaches all of it;
        # `setsid -w` waits for it and passes its exit status on.
        inner = f"echo $$ > {_PID} && exec \"$@\""
        command = (f"cd {q} && . ./{_REMOTE_ARGS} && exec setsid -w sh -c {shlex.quote(inner)} sh "
                   + " ".join(shlex.quote(w) for w in shell))
        code = subprocess.run([*ssh, command], stdin=subprocess.DEVNULL).returncode
    finally:
        stop.disarm()
    excludes = " ".join(f"--exclude=./{shlex.quote(n)}" for n in [*shipped, _PID])
    gather = subprocess.Popen([*ssh, f"tar cf - -C {q} {excludes} ."], stdout=subprocess.PIPE)
    assert gather.stdout is not None
    with tarfile.open(fileobj=gather.stdout, mode="r|") as tar:
        tar.extractall(".", filter="data")
    gathered = gather.wait()
    subprocess.run([*ssh, f"rm -rf {q}"], stdin=subprocess.DEVNULL, check=False)
    if gathered != 0:
        sys.stderr.write(f"hypermetric: cannot gather the job's files from {machine.name}\n")
        return code or 255
    return code


class _stopper:
    """On SIGTERM/SIGINT: stop the remote process group, then exit as the signal would."""

    def __init__(self, ssh: list[str], remote: str) -> None:
        self._ssh, self._remote = ssh, remote
        self._old = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def _stop(self, signum: int, _frame: object) -> None:
        subprocess.run([*self._ssh, f"kill -TERM -- -$(cat {self._remote}/{_PID}) ; rm -rf {self._remote}"],
                       stdin=subprocess.DEVNULL, check=False, timeout=30)
        os._exit(128 + signum)

    def disarm(self) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
