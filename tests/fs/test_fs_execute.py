"""`task t@server`: jobs run through `ssh.server`'s `execute` on a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

import textwrap


def _pipeline(sshd_server, remote, body: str) -> str:
    return (f'import ssh\nobject box = ssh.server(host="hmtest", root="{remote}", '
            f'extra_ssh_args="{sshd_server.args}")\n' + textwrap.dedent(body))


def test_a_task_runs_on_the_ssh_server(short_project, sshd_server):
    project = short_project
    remote = project.root / "remote"
    remote.mkdir()
    project.write("main.hm", _pipeline(sshd_server, remote, """
        x = {X: one "two words"}
        task prep(x=$x) -> out:
          echo "prep $x" > "$out"
        task t@box(p=$prep.out, x=$x) -> o:
          echo "on the server in $PWD"
          echo "warning $x" >&2
          cat "$p" > "$o"
        task after(i=$t.o) -> f:
          cat "$i" > "$f"
        """))
    result = project.sh("run", "after[X: *]", "-y").ok()
    job = remote / "t" / "X=two+words"
    assert (job / "o").read_text() == "prep two words\n"  # the input was uploaded, the output made there
    assert (job / "p").read_text() == "prep two words\n"
    assert f"t[X: two words]> on the server in {job}" in result.out
    assert project.read("out/t/X=two+words/stdout") == f"on the server in {job}\n"
    assert project.read("out/t/X=two+words/stderr") == "warning two words\n"
    assert project.read("out/t/X=two+words/exitcode") == "0"
    assert project.read("out/after/X=two+words/f") == "prep two words\n"  # downloaded for a local task
    assert "box.start[default]: SUCCESS" in result.out and "box.stop[default]: SUCCESS" in result.out
    again = project.sh("run", "after[X: *]", "-y").ok()
    assert "RUNNING" not in again.out


def test_a_failing_remote_job_fails_with_its_exit_code_and_stderr(short_project, sshd_server):
    project = short_project
    remote = project.root / "remote"
    remote.mkdir()
    project.write("main.hm", _pipeline(sshd_server, remote, """
        task t@box -> o:
          echo "it broke" >&2
          exit 4
        """))
    result = project.sh("run", "t", "-y")
    assert result.code == 1, result.out + result.err
    assert "FAILED: exit code 4" in result.out and "it broke" in result.out
    assert project.read("out/t/default/exitcode") == "4"
    assert project.read("out/t/default/stderr") == "it broke\n"
    assert "PENDING" in project.sh("dry-run", "t").ok().out
