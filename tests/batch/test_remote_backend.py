"""The remote backend against two real OpenSSH servers on 127.0.0.1 (two ports = two machines)."""

from __future__ import annotations

import getpass
import json
import shutil
import sys

import pytest


def _machine(server, scratch, name: str, slots: int, password: str | None = None) -> dict:
    connection = {"hostname": "127.0.0.1", "port": server.port, "username": getpass.getuser(),
                  "ssh_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"}
    connection.update({"password": password} if password else {"key": str(server.home / "client_key")})
    return {"connection": connection, "slots": slots, "environments": {"MACHINE": name}, "workdir": str(scratch)}


def _batch(project, machines, n: int = 3) -> None:
    command = (f"{sys.executable} -c 'import hypermetric; p = hypermetric.job_params(); "
               "print(p[\"i\"] * 2)' > double.txt\necho \"$MACHINE\" > machine.txt\nmkdir -p sub && echo deep > sub/f")
    project.write("batch.json", json.dumps({
        "name": "spread",
        "jobs": [{"name": f"j{i}", "params": {"i": i}, "command": command, "outputs": {"double": "double.txt"}}
                 for i in range(n)],
        "backend": {"type": "remote", "machines": machines}}))


def test_jobs_spread_over_two_machines_and_outputs_come_back(project, two_machines, tmp_path):
    a, b = two_machines
    scratch_a, scratch_b = tmp_path / "scratch-a", tmp_path / "scratch-b"
    _batch(project, [_machine(a, scratch_a, "a", 1), _machine(b, scratch_b, "b", 2)])
    result = project.sh("run", "batch.json").ok()
    assert "3 succeeded" in result.out, result.out
    nodes = {}
    for i in range(3):
        job = project.path("out/spread", f"j{i}")
        assert (job / "double.txt").read_text() == f"{i * 2}\n"
        assert (job / "sub/f").read_text() == "deep\n"
        machine = (job / "machine.txt").read_text().strip()
        nodes[machine] = nodes.get(machine, 0) + 1
        assert json.loads((job / "job.json").read_text())["node"].endswith(
            f":{a.port if machine == 'a' else b.port}")
    assert nodes == {"a": 1, "b": 2}  # three slots in all: every job started at once, b has two
    assert list(scratch_a.iterdir()) == [] and list(scratch_b.iterdir()) == []  # scratch folders removed
    assert "3 complete" in project.sh("run", "batch.json").ok().out


def test_a_failing_remote_job_fails_with_its_exit_code(project, two_machines, tmp_path):
    a, _ = two_machines
    project.write("batch.json", json.dumps({
        "name": "bad", "jobs": [{"name": "x", "params": {}, "command": "echo oops >&2; exit 3"}],
        "backend": {"type": "remote", "machines": [_machine(a, tmp_path / "s", "a", 1)]}}))
    result = project.sh("run", "batch.json")
    assert result.code == 1 and "exit code 3" in result.out
    assert project.read("out/bad/x/stderr") == "oops\n"
    assert not project.path("out/bad/x/exitcode").read_text() == "0"


@pytest.mark.skipif(shutil.which("sshpass") is not None, reason="sshpass is installed here")
def test_a_password_without_sshpass_is_a_clear_error(project, two_machines, tmp_path):
    a, _ = two_machines
    _batch(project, [_machine(a, tmp_path / "s", "a", 1, password="secret")], n=1)
    error = project.sh("run", "batch.json").user_error().err
    assert "password login needs `sshpass`" in error and "key" in error
