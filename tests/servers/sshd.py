"""An OpenSSH server on 127.0.0.1 with its own host key and one authorized client key, in a temp dir."""

from __future__ import annotations

import getpass
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from servers.common import free_port, wait_for, which

HOST = "hmtest"


@dataclass
class SshServer:
    """A running sshd; `config` is a client config defining the host alias `hmtest` (use `ssh -F config`)."""

    proc: subprocess.Popen
    port: int
    config: Path
    home: Path

    @property
    def args(self) -> str:
        """The `extra_ssh_args` that reach this server."""
        return f"-F {self.config}"

    def ssh(self, command: str, timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(["ssh", "-F", str(self.config), HOST, command], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def missing() -> str | None:
    """Why no server can be started here, or None."""
    if which("sshd", "/usr/sbin/sshd") is None:
        return "sshd is not installed (run tests/servers/install.sh)"
    for tool in ("ssh", "ssh-keygen"):
        if which(tool) is None:
            return f"{tool} is not installed (run tests/servers/install.sh)"
    return None


def start(directory: Path) -> SshServer:
    """Generate keys and configs under `directory`, start `sshd -D` on a free port, wait until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key, client_key = directory / "host_key", directory / "client_key"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = directory / "authorized_keys"
    authorized.write_text(Path(f"{client_key}.pub").read_text())
    authorized.chmod(0o600)
    port = free_port()
    server_config = directory / "sshd_config"
    server_config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"AuthorizedKeysFile {authorized}",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", f"PidFile {directory}/sshd.pid",
        "MaxSessions 50", "MaxStartups 50:30:100", "LogLevel ERROR", "",
    ]))
    client_config = directory / "ssh_config"
    client_config.write_text("\n".join([
        f"Host {HOST}", "  HostName 127.0.0.1", f"  Port {port}", f"  User {getpass.getuser()}",
        f"  IdentityFile {client_key}", "  IdentitiesOnly yes", "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null", "  LogLevel ERROR", "  BatchMode yes", "  ConnectTimeout 10", "",
    ]))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    sshd = which("sshd", "/usr/sbin/sshd")
    assert sshd is not None
    with open(directory / "sshd.log", "wb") as log:
        proc = subprocess.Popen([os.path.abspath(sshd), "-D", "-e", "-f", str(server_config)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = SshServer(proc, port, client_config, directory)

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {(directory / 'sshd.log').read_text()}")
        return server.ssh("true", timeout=10).returncode == 0

    try:
        wait_for(answers, 15, "sshd")
    except BaseException:
        server.stop()
        raise
    return server
