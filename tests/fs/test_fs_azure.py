"""`az.storage_fs` (ADLS Gen2) and `az.ml_job_create` (an Azure ML runner) through a recording `az` stub.

The stub (`tests/servers/az_stubs.py`) logs every argv and acts on a local directory, so these tests check
the exact commands the stdlib issues and that the file-system and runner protocols work end to end with
them. They do not prove compatibility with the real services.
"""

from __future__ import annotations

import textwrap

import pytest
from servers import az_stubs, stubs

from hypermetric import api
from hypermetric.store.fscall import fs_call


@pytest.fixture
def az_stub(tmp_path, monkeypatch):
    bin_dir, store, log = tmp_path / "stub-bin", tmp_path / "store", tmp_path / "stub.log"
    az_stubs.install(bin_dir)
    store.mkdir()
    for key, value in stubs.environment(bin_dir, store, log).items():
        monkeypatch.setenv(key, value)
    return store, log


ADLS = 'import az\nobject lake = az.storage_fs(file_system="fs1", root="exp", extra_args="--auth-mode login")\n'


def test_storage_fs_operations(project, az_stub):
    store, log = az_stub
    project.write("main.hm", ADLS + "task t -> o@lake:\n  true\n")
    graph = api.plan(api.load(str(project.path("main.hm")), cwd=str(project.root)), ["t"])
    spec = graph.jobs["t"].file_system("lake")
    (project.root / "out/tree/sub").mkdir(parents=True)
    (project.root / "out/tree/sub/leaf").write_text("leaf\n")
    (project.root / "out/one.txt").write_text("one\n")
    fs_call(spec, "mkdir", "d")
    fs_call(spec, "upload", "tree", "d/tree")
    fs_call(spec, "upload", "one.txt", "d/one.txt")
    fs_call(spec, "touch", "d/empty")
    assert (store / "fs1/exp/d/tree/sub/leaf").read_text() == "leaf\n"
    assert fs_call(spec, "exists", "d/tree/sub/leaf", check=False).code == 0
    assert fs_call(spec, "exists", "d/tree", check=False).code == 0
    assert fs_call(spec, "exists", "nothing", check=False).code != 0
    assert fs_call(spec, "read", "d/one.txt").stdout == "one\n"
    fs_call(spec, "link", "d/one.txt", "e/copy.txt")
    fs_call(spec, "link", "d/tree", "e/tree")
    assert (store / "fs1/exp/e/copy.txt").read_text() == "one\n"
    assert (store / "fs1/exp/e/tree/sub/leaf").read_text() == "leaf\n"
    fs_call(spec, "download", "d/tree", "down-tree")
    fs_call(spec, "download", "d/one.txt", "down.txt")
    assert project.read("out/down-tree/sub/leaf") == "leaf\n" and project.read("out/down.txt") == "one\n"
    fs_call(spec, "remove", "d")
    fs_call(spec, "remove", "e/copy.txt")
    assert not (store / "fs1/exp/d").exists() and not (store / "fs1/exp/e/copy.txt").exists()
    argv = stubs.calls(log)
    assert ["az", "storage", "fs", "directory", "create", "--file-system", "fs1", "--name", "exp/d",
            "--output", "none", "--auth-mode", "login"] == argv[0]
    assert ["az", "storage", "fs", "file", "upload", "--file-system", "fs1", "--path", "exp/d/one.txt",
            "--source", "one.txt", "--overwrite", "true", "--output", "none", "--auth-mode", "login"] in argv
    assert all(a[-2:] == ["--auth-mode", "login"] for a in argv)


def test_storage_fs_in_a_pipeline(project, az_stub):
    store, _ = az_stub
    (store / "fs1/exp/corpora").mkdir(parents=True)
    (store / "fs1/exp/corpora/wiki.txt").write_text("a b c\n")
    project.write("main.hm", ADLS + textwrap.dedent("""
        corpus = "corpora/wiki.txt"@lake
        task count(text=$corpus) -> n:
          wc -w < "$text" > "$n"
        task report(n@lake=$count.n) -> r:
          echo "$n" > "$r"
        """))
    project.sh("run", "report", "-y").ok()
    assert project.read("out/count/default/n").strip() == "3"
    assert (store / "fs1/exp/report/default/n").read_text().strip() == "3"  # uploaded for `report`
    assert project.read("out/report/default/r").strip() == "exp/report/default/n"
    assert "2 complete" in project.sh("run", "report", "-y").ok().out


def test_ml_job_create_runs_jobs_as_a_runner(project, az_stub):
    store, log = az_stub
    project.write("main.hm", textwrap.dedent("""
        import az
        x = {X: one two}
        @@az.ml_job_create(compute="azureml:cpu", environment="azureml:env@latest",
                           extra_args="--workspace-name w --resource-group g", refresh_interval="0.05")
        task t(x=$x) -> o:
          echo "hello $x"
          echo "$x" > o
        """))
    result = project.sh("run", "t[X: *]", "-y").ok()
    assert "t[X: two]> hello two" in result.out
    assert project.read("out/t/X=two/stdout") == "hello two\n"
    assert project.read("out/t/X=two/o") == "two\n" and project.read("out/t/X=two/exitcode") == "0"
    spec = project.read("out/t/default/azureml-job.yml")
    assert "compute: azureml:cpu" in spec and "environment: azureml:env@latest" in spec
    assert "command: bash azureml-run.sh ${{outputs.hm}}" in spec and "code: ." in spec
    argv = stubs.calls(log)
    shows = [a for a in argv if a[1:4] == ["ml", "job", "show"]]
    assert len(shows) == 4  # each job seen running once, then ended
    assert argv[0][:7] == ["az", "ml", "job", "create", "--file", "azureml-job.yml", "--query"]
    assert all(a[-4:] == ["--workspace-name", "w", "--resource-group", "g"] for a in argv)


def test_ml_job_create_reports_a_failed_script(project, az_stub):
    project.write("main.hm", textwrap.dedent("""
        import az
        @@az.ml_job_create(compute="c", environment="e", refresh_interval="0.05")
        task t -> o:
          echo "broken" >&2
          exit 3
        """))
    result = project.sh("run", "t", "-y")
    assert result.code == 1 and "exit code 3" in result.out + result.err
    assert project.read("out/t/default/stderr") == "broken\n"
    assert project.read("out/t/default/exitcode") == "3"
