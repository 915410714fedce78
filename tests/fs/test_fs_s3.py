"""`aws.s3` through the real aws CLI against moto's S3 server on 127.0.0.1; a pipeline from S3 to SSH."""

from __future__ import annotations

import itertools
import textwrap

import pytest
from parallel_calls import concurrently

from hypermetric import api
from hypermetric.store.fscall import fs_call

_BUCKETS = itertools.count(1)


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A fresh bucket; the aws CLI of this process and of its jobs points at the server."""
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    name = f"hm-test-{next(_BUCKETS)}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def _keys(s3_server, bucket: str) -> list[str]:
    listed = s3_server.client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_s3_operations(project, s3_server, bucket):
    project.write("main.hm", f'import aws\nobject b = aws.s3(bucket="{bucket}", root="exp")\n'
                             "task t -> o@b:\n  true\n")
    graph = api.plan(api.load(str(project.path("main.hm")), cwd=str(project.root)), ["t"])
    spec = graph.jobs["t"].file_system("b")
    (project.root / "out").mkdir()
    (project.root / "out/up.txt").write_text("payload\n")
    def call(op: str, *args: str):
        return lambda: fs_call(spec, op, *args, check=op != "exists")

    concurrently(call("mkdir", "d"), call("upload", "up.txt", "d/up.txt"))
    present, absent, read, *_ = concurrently(call("exists", "d/up.txt"), call("exists", "nothing"),
                                             call("read", "d/up.txt"), call("link", "d/up.txt", "e/copy.txt"),
                                             call("touch", "e/empty"))
    assert present.code == 0 and absent.code != 0 and read.stdout == "payload\n"
    concurrently(call("download", "e", "down"), call("remove", "d"))
    assert project.read("out/down/copy.txt") == "payload\n" and project.read("out/down/empty") == ""
    assert _keys(s3_server, bucket) == ["exp/e/copy.txt", "exp/e/empty"]


def test_pipeline_from_s3_to_ssh(short_project, s3_server, bucket, sshd_server):
    project = short_project
    remote = project.root / "remote"
    s3_server.client().put_object(Bucket=bucket, Key="exp/corpus.txt", Body=b"one two three four five\n")
    project.write("main.hm", textwrap.dedent(f"""
        import aws
        import ssh
        object bucket = aws.s3(bucket="{bucket}", root="exp")
        object box = ssh.server(host="hmtest", root="{remote}", extra_ssh_args="{sshd_server.args}")
        corpus = "corpus.txt"@bucket
        task count(text=$corpus) -> n@box:
          wc -w < "$text" > "$n"
        """))
    project.run("run", "count").ok()
    assert (remote / "count/default/n").read_text().strip() == "5"
    assert project.read("out/count/default/text") == "one two three four five\n"  # downloaded from S3
    assert "RUNNING" not in project.run("run", "count").ok().out
    project.run("remove", "count", "-y").ok()
    assert not (remote / "count/default").exists() and not project.path("out/count/default").exists()
