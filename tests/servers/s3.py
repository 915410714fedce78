"""moto's standalone S3-compatible server on 127.0.0.1, used through the real aws CLI."""

from __future__ import annotations

import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from servers.common import free_port, search_path, wait_for, which


@dataclass
class S3Server:
    """A running `moto_server`; `env` holds the aws CLI settings that reach it (fake credentials)."""

    proc: subprocess.Popen
    endpoint: str
    env: dict[str, str]

    def client(self):
        """A boto3 client of the server, for test setup and checks (boto3 comes with moto)."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def aws(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["aws", *args], capture_output=True, text=True, timeout=60,
                              env=self.full_env(), stdin=subprocess.DEVNULL, check=False)

    def full_env(self) -> dict[str, str]:
        import os

        return {**os.environ, **self.env}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def missing() -> str | None:
    """Why no server can be started here, or None."""
    for tool in ("moto_server", "aws"):
        if which(tool) is None:
            return f"{tool} is not installed (run tests/servers/install.sh)"
    return None


def start(directory: Path) -> S3Server:
    """Start `moto_server` on a free port and wait until it answers HTTP."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    moto = which("moto_server")
    assert moto is not None
    with open(directory / "moto.log", "wb") as log:
        proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "PATH": search_path(), "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(directory / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(directory / "aws-credentials"),
    }

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited: {(directory / 'moto.log').read_text()}")
        try:
            with urllib.request.urlopen(endpoint, timeout=2):
                return True
        except OSError:
            return False

    server = S3Server(proc, endpoint, env)
    try:
        wait_for(answers, 30, "moto_server")
    except BaseException:
        server.stop()
        raise
    return server
