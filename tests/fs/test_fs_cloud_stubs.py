"""`gcloud.storage` and `az.storage_blob` through recording stubs of their CLIs (no emulator available).

The stubs (`tests/servers/stubs.py`) log every argv and keep blobs in a local directory, so these tests check
the exact commands the stdlib modules issue and that the file-system protocol works end to end with them.
They do not prove compatibility with the real services.
"""

from __future__ import annotations

import pytest
from servers import stubs

from hypermetric import api
from hypermetric.store.fscall import fs_call


@pytest.fixture
def cli_stubs(tmp_path, monkeypatch):
    bin_dir, store, log = tmp_path / "stub-bin", tmp_path / "store", tmp_path / "stub.log"
    stubs.install(bin_dir)
    store.mkdir()
    for key, value in stubs.environment(bin_dir, store, log).items():
        monkeypatch.setenv(key, value)
    return store, log


def _spec(project, text: str, fs: str):
    project.write("main.hm", text + f"task t -> o@{fs}:\n  true\n")
    graph = api.plan(api.load(str(project.path("main.hm")), cwd=str(project.root)), ["t"])
    return graph.jobs["t"].file_system(fs)


def test_gcloud_storage_commands(project, cli_stubs):
    store, log = cli_stubs
    spec = _spec(project, 'import gcloud\nobject g = gcloud.storage(root="gs://bkt/exp")\n', "g")
    (project.root / "out/tree").mkdir(parents=True)
    (project.root / "out/tree/leaf").write_text("leaf\n")
    fs_call(spec, "mkdir", "d")
    fs_call(spec, "upload", "tree", "d/tree")
    fs_call(spec, "touch", "d/empty")
    assert fs_call(spec, "exists", "d/tree/leaf", check=False).code == 0
    assert fs_call(spec, "exists", "nothing", check=False).code != 0
    assert fs_call(spec, "read", "d/tree/leaf").stdout == "leaf\n"
    fs_call(spec, "download", "d", "down")
    downloaded = sorted(p.name for p in (project.root / "out/down").iterdir())
    assert downloaded == ["empty", "tree"]  # no `_$folder$` placeholder
    fs_call(spec, "remove", "d")
    assert not (store / "bkt/exp/d").exists()
    argv = stubs.calls(log)
    assert argv[0][:4] == ["gcloud", "storage", "cp", "--no-user-output-enabled"]
    assert argv[0][5] == "gs://bkt/exp/d/_$folder$"
    assert ["gcloud", "storage", "rsync", "--recursive", "--no-user-output-enabled", "tree",
            "gs://bkt/exp/d/tree"] in argv
    assert ["gcloud", "storage", "ls", "gs://bkt/exp/d/tree/leaf"] in argv
    assert ["gcloud", "storage", "rm", "--recursive", "--no-user-output-enabled", "gs://bkt/exp/d"] in argv


def test_gcloud_input_in_a_pipeline_and_the_missing_link(project, cli_stubs):  # without `link`: a text file on the target fs
    store, _ = cli_stubs
    (store / "bkt/exp").mkdir(parents=True)
    (store / "bkt/exp/corpus.txt").write_text("a b c\n")
    project.write("main.hm", """
import gcloud
object g = gcloud.storage(root="gs://bkt/exp")
corpus = "corpus.txt"@g
task count(text=$corpus) -> n:
  wc -w < "$text" > "$n"
task keep(text@g=$corpus) -> o:
  echo "$text" > "$o"
""")
    project.run("run", "count", "keep").ok()
    assert project.read("out/count/default/n").strip() == "3"
    assert (store / "bkt/exp/keep/default/text").read_text() == "corpus.txt"  # no `link`: a text file
    assert project.read("out/keep/default/o").strip() == "gs://bkt/exp/corpus.txt"


def test_az_storage_blob_commands(project, cli_stubs):
    store, log = cli_stubs
    spec = _spec(project, 'import az\nobject z = az.storage_blob(container="box", root="exp", '
                          'extra_args="--account-name acct")\n', "z")
    (project.root / "out").mkdir()
    (project.root / "out/up.txt").write_text("payload\n")
    fs_call(spec, "mkdir", "d")
    fs_call(spec, "upload", "up.txt", "d/up.txt")
    assert fs_call(spec, "exists", "d/up.txt", check=False).code == 0
    assert fs_call(spec, "exists", "d", check=False).code == 0
    assert fs_call(spec, "exists", "nothing", check=False).code != 0
    assert fs_call(spec, "read", "d/up.txt").stdout == "payload\n"
    fs_call(spec, "link", "d", "e")
    fs_call(spec, "touch", "e/empty")
    fs_call(spec, "download", "e", "down")
    assert (project.root / "out/down/up.txt").read_text() == "payload\n"
    fs_call(spec, "remove", "d")
    assert not (store / "box/exp/d").exists() and (store / "box/exp/e/up.txt").exists()
    argv = stubs.calls(log)
    assert all(a[-2:] == ["--account-name", "acct"] for a in argv)
    assert ["az", "storage", "blob", "upload", "--container-name", "box", "--name", "exp/d/up.txt",
            "--file", "up.txt", "--overwrite", "true", "--no-progress", "--output", "none",
            "--account-name", "acct"] in argv
    assert any(a[3:5] == ["copy", "start"] and "exp/e/up.txt" in a for a in argv)
