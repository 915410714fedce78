"""Runs one job's script on a remote machine over SSH; the remote backend makes this the job's process.

It runs in the job directory with the job's environment, as `python -m hypermetric.execution.remote_run
MACHINE_JSON SHELL... script`: it ships the directory (input links as the files they point to) to a fresh
scratch folder on the machine, runs the script there with the variables of `args` (paths inside the job
directory rewritten to the scratch folder) and the machine's environment, passes the script's output and exit
status through, gathers every file the script made back into the job directory, and removes the scratch
folder. SIGTERM or SIGINT stops the remote process group (SIGKILL after `STOP_WAIT` seconds) and removes the
scratch folder before this process exits; the job's lock stays held until that is done, so a re-run can never
start the job beside its remote leftovers.
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
_STOP = ".remote-stop"
STOP_WAIT = 3.0  # seconds a stopped remote job has between SIGTERM and SIGKILL
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
    stop = _stopper(ssh, q)  # from here to the end a stop also removes the scratch folder
    try:
        sent = subprocess.run([*ssh, f"mkdir -p {q} && tar xf - -C {q}"], input=data, stdout=subprocess.DEVNULL)
        if sent.returncode != 0:
            sys.stderr.write(f"hypermetric: cannot ship the job to {machine.name} (ssh exit {sent.returncode})\n")
            subprocess.run([*ssh, f"rm -rf {q}"], stdin=subprocess.DEVNULL, check=False)
            return 255
        code = subprocess.run([*ssh, run_command(q, shell)], stdin=subprocess.DEVNULL).returncode
        gathered = _gather(ssh, q, [*shipped, _PID, _STOP])
    finally:
        stop.disarm()
    if not gathered:
        sys.stderr.write(f"hypermetric: cannot gather the job's files from {machine.name}\n")
        return code or 255
    return code


def run_command(q: str, shell: list[str]) -> str:
    """The remote command that runs the script in scratch folder `q` (shell-quoted) and passes its exit
    status on.

    The script leads a process group of its own, whose id it records, so that a stop reaches all of it;
    `setsid -w` waits for it. It starts only if no stop has come first: a stop marks the folder before it
    reads the id, and the script records its id before it looks for the mark, so either the stop finds the id
    or the script finds the mark. What the script leaves running in its group is killed once it has exited,
    as the local backend does, so nothing writes into the folder while it is gathered.
    """
    inner = f"echo $$ > {_PID} && [ ! -e {_STOP} ] && exec \"$@\""
    words = " ".join(shlex.quote(w) for w in shell)
    return (f"cd {q} && . ./{_REMOTE_ARGS} && {{ setsid -w sh -c {shlex.quote(inner)} sh {words}; code=$?; "
            f"pg=$(cat {_PID} 2>/dev/null); [ -n \"$pg\" ] && kill -KILL -- -$pg 2>/dev/null; exit $code; }}")


def _gather(ssh: list[str], q: str, skip: list[str]) -> bool:
    """Bring every file in scratch folder `q` but those in `skip` into the job directory, then remove the
    folder; whether the files came back."""
    excludes = " ".join(f"--exclude=./{shlex.quote(n)}" for n in skip)
    gather = subprocess.Popen([*ssh, f"tar cf - -C {q} {excludes} ."], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
    assert gather.stdout is not None
    try:
        with tarfile.open(fileobj=gather.stdout, mode="r|") as tar:
            tar.extractall(".", filter="data")
        problem = None
    except tarfile.TarError as e:  # nothing came (ssh failed), or a file would land outside the job directory
        problem = e
        gather.stdout.read()
    gathered = gather.wait() == 0 and problem is None
    if problem is not None and gather.returncode == 0:
        sys.stderr.write(f"hypermetric: a file the job made cannot be brought back: {problem}\n")
    subprocess.run([*ssh, f"rm -rf {q}"], stdin=subprocess.DEVNULL, check=False)
    return gathered


class _stopper:
    """On SIGTERM/SIGINT: stop the remote process group, then exit as the signal would.

    The stop runs in a session of its own and keeps the job's lock file open (inherited from the runner), so
    that the job stays locked until its remote processes are gone, even if this process is killed meanwhile.
    """

    def __init__(self, ssh: list[str], remote: str) -> None:
        self._ssh, self._remote = ssh, remote
        self._old = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def _stop(self, signum: int, _frame: object) -> None:
        for s in self._old:  # a second signal (a second Ctrl-C) must not start a second stop
            signal.signal(s, signal.SIG_IGN)
        stop = subprocess.Popen([*self._ssh, stop_command(self._remote)], stdin=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=_lock_fds())
        try:
            stop.wait(timeout=STOP_WAIT + 60)
        except subprocess.TimeoutExpired:
            pass
        os._exit(128 + signum)

    def disarm(self) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)


def stop_command(remote: str) -> str:
    """Mark the scratch folder stopped, SIGTERM the job's process group, SIGKILL it if it is still there
    after a grace, and remove the folder (`remote` is shell-quoted)."""
    tries = int(STOP_WAIT / 0.1)
    return (f"touch {remote}/{_STOP} 2>/dev/null; pg=$(cat {remote}/{_PID} 2>/dev/null); "
            f'if [ -n "$pg" ]; then kill -TERM -- -$pg 2>/dev/null; i=0; '
            f'while [ $i -lt {tries} ] && kill -0 -- -$pg 2>/dev/null; do sleep 0.1; i=$((i+1)); done; '
            f"kill -KILL -- -$pg 2>/dev/null; fi; rm -rf {remote}")


def _lock_fds() -> tuple[int, ...]:
    """The descriptors of this process open on the job's `.lock` (the runner's lock, inherited)."""
    lock = os.path.abspath(LOCK)
    found = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return ()
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == lock:
                found.append(int(name))
        except OSError:
            continue
    return tuple(found)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
