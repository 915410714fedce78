"""A cluster that `ray start --head` left running, joined with `--ray-address auto` through the real CLI: a
cached re-run never joins it (no new Ray job in the cluster); a one-job run started from the same
installation joins it without shipping the hypermetric package (nothing unpacked on the node); and a cluster
whose workers find another hypermetric gets the package shipped.

The head runs in its own temporary directory (`RAY_TMPDIR`, which is also where `auto` looks for it), on ports
no other cluster uses, in a process group of its own that the fixture ends, never with `ray stop` (which would
stop every Ray on the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.waiting import BOUND, wait_until

pytestmark = pytest.mark.ray


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Head:
    def __init__(self, tmp: str, proc: subprocess.Popen, address: str) -> None:
        self.tmp, self.proc, self.address = tmp, proc, address
        self.env = {"RAY_TMPDIR": tmp, "RAY_AUTH_MODE": "disabled"}

    def jobs(self) -> int:
        """How many Ray jobs (drivers) have joined the cluster so far."""
        from ray._raylet import GcsClient

        return len(GcsClient(address=self.address).get_all_job_info())

    def shipped(self) -> list[str]:
        """The hypermetric packages unpacked on the node (a shipped `py_modules` runtime environment)."""
        found = Path(self.tmp, "ray", "session_latest", "runtime_resources", "py_modules_files")
        return sorted(p.name for p in found.glob("_ray_pkg_*") if p.is_dir()) if found.exists() else []

    def remembered(self) -> set[bytes]:
        """What the cluster remembers about hypermetric packages (`native` or `ship`, each fingerprint's)."""
        from ray._raylet import GcsClient

        client = GcsClient(address=self.address)
        keys = client.internal_kv_keys(b"package:", b"hypermetric")
        return {client.internal_kv_get(key, b"hypermetric") for key in keys}


def _start_head(**extra_env: str) -> Iterator[_Head]:
    pytest.importorskip("ray")
    tmp = tempfile.mkdtemp(prefix="hmray", dir="/tmp")  # Ray's socket paths must stay short
    env = {**os.environ, "RAY_TMPDIR": tmp, "RAY_AUTH_MODE": "disabled", **extra_env}
    env.pop("RAY_ADDRESS", None)
    log = Path(tmp, "head.log")
    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [ray, "start", "--head", "--block", "--num-cpus", "2", "--port", str(_free_port()),
             "--dashboard-agent-listen-port", str(_free_port()),
             "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", os.path.join(tmp, "ray")],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # `--block` says so once the head runs
        wait_until(lambda: "block forever" in log.read_text() or proc.poll() is not None, what="ray start")
        if proc.poll() is not None:
            pytest.fail("ray start --head did not start:\n" + log.read_text()[-3000:])
        address = Path(tmp, "ray", "ray_current_cluster").read_text().strip()
        yield _Head(tmp, proc, address)
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def head() -> Iterator[_Head]:
    """A head started from this installation: its workers import this very hypermetric."""
    yield from _start_head()


@pytest.fixture(scope="module")
def foreign_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Head]:
    """A head whose workers find another `hypermetric` first (a stale copy on their `PYTHONPATH`)."""
    other = tmp_path_factory.mktemp("other")
    (other / "hypermetric").mkdir()
    (other / "hypermetric" / "__init__.py").write_text('__version__ = "0.0.0"\n')
    yield from _start_head(PYTHONPATH=str(other))


def _stop(proc: subprocess.Popen) -> None:
    """End the head: `ray start --block` stops its processes on SIGTERM; what is left of its group is killed."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(BOUND)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


PIPELINE = """
task t -> o:
  echo ran > $o
"""


def test_a_one_job_run_joins_a_running_cluster_without_shipping_the_package(project, head) -> None:
    project.write("main.hm", PIPELINE)
    before = head.jobs()
    for _ in range(2):  # the first run asks the cluster; the second finds the answer there
        result = project.sh("run", "t", "--backend", "ray", "--ray-address", "auto", env=head.env, timeout=BOUND)
        assert result.code == 0, result.err
        assert project.read("out/t/default/o") == "ran\n"
        project.path("out/t/default/exitcode").unlink()
    assert head.jobs() == before + 2
    assert head.shipped() == [] and head.remembered() == {b"native"}


def test_a_cached_rerun_never_joins_the_cluster(project, head) -> None:
    project.write("main.hm", PIPELINE)
    first = project.sh("run", "t", "--backend", "ray", "--ray-address", "auto", env=head.env, timeout=BOUND)
    assert first.code == 0, first.err
    before = head.jobs()
    again = project.sh("run", "t", "--backend", "ray", "--ray-address", "auto", env=head.env, timeout=BOUND)
    assert again.code == 0, again.err
    assert head.jobs() == before
    assert project.read("out/t/default/o") == "ran\n"


def test_a_cluster_with_another_hypermetric_gets_the_package_shipped(project, foreign_head) -> None:
    project.write("main.hm", PIPELINE)
    for _ in range(2):  # the first run finds out (and joins again with the package); the second knows
        result = project.sh("run", "t", "--backend", "ray", "--ray-address", "auto", env=foreign_head.env,
                            timeout=BOUND)
        assert result.code == 0, result.err
        assert project.read("out/t/default/o") == "ran\n"
        project.path("out/t/default/exitcode").unlink()
    assert len(foreign_head.shipped()) == 1 and foreign_head.remembered() == {b"ship"}
