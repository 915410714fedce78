"""`ssh.server` and `ssh.remote_tmux` against a real OpenSSH server on 127.0.0.1 (the bundled `ssh` module)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap

import pytest

from hypermetric import api
from hypermetric.store.fscall import fs_call


def _box(sshd_server, remote) -> str:
    return (f'import ssh\nobject box = ssh.server(host="hmtest", root="{remote}", '
            f'extra_ssh_args="{sshd_server.args}")\n')


def _spec(project, text: str, target: str, fs: str = "box"):
    project.write("main.hm", text)
    graph = api.plan(api.load(str(project.path("main.hm")), cwd=str(project.root)), [target])
    return graph.jobs[graph.targets[0]].file_system(fs)


def test_ssh_server_operations(short_project, sshd_server):
    project = short_project
    remote = project.root / "remote"
    spec = _spec(project, _box(sshd_server, remote) + "task t -> o@box:\n  touch $o\n", "t")
    sock = dict(next(f for f in spec.functions if f.name == "exists").defaults)["sock"]
    os.makedirs(os.path.dirname(sock))
    master = subprocess.run(["ssh", "-F", str(sshd_server.config), "-f", "-N", "-M", "-S", sock, "hmtest"],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    assert master.returncode == 0, master.stderr
    try:
        (project.root / "out").mkdir(exist_ok=True)
        (project.root / "out/up.txt").write_text("payload\n")
        (project.root / "out/tree/sub").mkdir(parents=True)
        (project.root / "out/tree/sub/leaf").write_text("leaf\n")
        fs_call(spec, "mkdir", "a/b")
        assert (remote / "a/b").is_dir()
        fs_call(spec, "upload", "up.txt", "a/b/up.txt")
        fs_call(spec, "upload", "tree", "a/tree")
        assert (remote / "a/b/up.txt").read_text() == "payload\n"
        assert (remote / "a/tree/sub/leaf").read_text() == "leaf\n"
        assert fs_call(spec, "exists", "a/b/up.txt", check=False).code == 0
        assert fs_call(spec, "exists", "a/nothing", check=False).code != 0
        assert fs_call(spec, "read", "a/b/up.txt").stdout == "payload\n"
        fs_call(spec, "link", "a/b/up.txt", "c/linked")
        assert os.path.islink(remote / "c/linked") and (remote / "c/linked").read_text() == "payload\n"
        fs_call(spec, "touch", "a/empty")
        assert (remote / "a/empty").read_text() == ""
        fs_call(spec, "download", "a/b/up.txt", "down.txt")
        fs_call(spec, "download", "a/tree", "down-tree")
        assert project.read("out/down.txt") == "payload\n"
        assert project.read("out/down-tree/sub/leaf") == "leaf\n"
        assert fs_call(spec, "execute", "ls a").stdout.split() == ["b", "empty", "tree"]
        fs_call(spec, "remove", "a")
        assert not (remote / "a").exists()
    finally:
        subprocess.run(["ssh", "-F", str(sshd_server.config), "-S", sock, "-O", "exit", "hmtest"],
                       capture_output=True, timeout=30, check=False)


def test_pipeline_through_an_ssh_service(short_project, sshd_server):
    project = short_project
    remote = project.root / "remote"
    remote.mkdir()
    (remote / "corpus.txt").write_text("a b c d\n")
    project.write("main.hm", _box(sshd_server, remote) + textwrap.dedent("""
        corpus = "corpus.txt"@box
        task count(text=$corpus) -> n@box:
          wc -w < "$text" > "$n"
        task report(n=$count.n) -> r:
          cat "$n" > "$r"
        """))
    result = project.run("run", "report").ok()
    assert "box.start[default]: SUCCESS" in result.out and "box.stop[default]: SUCCESS" in result.out
    assert (remote / "count/default/n").read_text().strip() == "4"
    assert project.read("out/report/default/r").strip() == "4"
    assert "RUNNING" not in project.run("run", "report").ok().out
    project.run("remove", "count", "-y").ok()
    assert not (remote / "count/default").exists() and not project.path("out/count/default").exists()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (tests/servers/install.sh)")
def test_remote_tmux_runs_jobs_on_the_server(short_project, sshd_server):
    project = short_project
    deco = f'@ssh.remote_tmux(host="hmtest", extra_ssh_args="{sshd_server.args}")\n'
    project.write("main.hm", "import ssh\n" + deco + textwrap.dedent("""
        task t(x="hello") -> o:
          echo "remote says $x"
          echo "$x" > "$o"
        """) + deco + "task f:\n  exit 4\n")
    result = project.run("run", "t", "f", "-k", "-j2")
    remote_dirs = re.findall(r"remote job started on hmtest in (\S+)", result.out)
    for remote_dir in remote_dirs:
        shutil.rmtree(remote_dir, ignore_errors=True)  # the server is this machine
    # Each execution has a folder and session of its own (the same job run from two roots in one second
    # once shared them): both are named after the execution's UUID.
    uuid = re.search(r"HYPERMAKE_JOB_UUID='?([0-9a-f-]+)", project.read("out/t/default/args")).group(1)
    assert any(d.endswith(f"-{uuid}") for d in remote_dirs), (uuid, remote_dirs)
    assert result.code == 1
    assert "t[default]> remote says hello" in result.out
    assert "f[default]: FAILED: exit code 4 ≠ 0" in result.out
    assert project.read("out/t/default/o") == "hello\n" and project.read("out/f/default/exitcode") == "4"
