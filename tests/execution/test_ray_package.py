"""Joining a Ray cluster without shipping the package when its workers already have this very one: the
fingerprint, the decision (remembered by the cluster, else asked once), and the worker's check of each job."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from jobs import make_job

from hypermetric.execution import ray_cluster, ray_codec, ray_package, ray_task
from hypermetric.execution.protocol import JobOptions
from hypermetric.execution.ray_cluster import connect, package_runtime_env
from hypermetric.store.status import JobStatus


def test_the_fingerprint_follows_the_files_but_not_compiled_ones(tmp_path) -> None:
    package = tmp_path / "pkg"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    first = ray_package.fingerprint.__wrapped__(str(package))
    (package / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"compiled")
    (package / "c.pyc").write_bytes(b"compiled")
    assert ray_package.fingerprint.__wrapped__(str(package)) == first
    (package / "sub" / "b.py").write_text("y = 22\n")
    assert ray_package.fingerprint.__wrapped__(str(package)) != first
    second = ray_package.fingerprint.__wrapped__(str(package))
    os.utime(package / "a.py", ns=(0, 12345))
    assert ray_package.fingerprint.__wrapped__(str(package)) not in (first, second)


class _Cluster:
    """A fake `ray` for `connect`, with what the cluster remembers and what a probe would find."""

    def __init__(self, monkeypatch, remembered: bytes | None, native: bool | None) -> None:
        self.calls: list[dict] = []
        self.probes = 0
        self.stored: list[bytes] = []
        context = SimpleNamespace(gcs_address="10.0.0.1:6379")
        self.ray = SimpleNamespace(is_initialized=lambda: False, init=lambda **kw: self.calls.append(kw),
                                   shutdown=lambda: self.calls.append({"shutdown": True}),
                                   get_runtime_context=lambda: context)

        def probe(ray, stamp):
            self.probes += 1
            return None if native is None else ray_package.NATIVE if native else ray_package.SHIP

        monkeypatch.setattr(ray_cluster, "check_reachable", lambda address: None)
        monkeypatch.setattr(ray_package, "remembered", lambda address, stamp: remembered)
        monkeypatch.setattr(ray_package, "probe", probe)
        monkeypatch.setattr(ray_package, "remember", lambda stamp, answer: self.stored.append(answer))


def test_a_cluster_known_to_have_the_package_is_joined_once_with_nothing_shipped(monkeypatch) -> None:
    cluster = _Cluster(monkeypatch, ray_package.NATIVE, native=False)
    assert connect(cluster.ray, address="10.0.0.1:6379") == ("10.0.0.1:6379", True, ray_package.fingerprint())
    assert len(cluster.calls) == 1 and "runtime_env" not in cluster.calls[0]
    assert cluster.probes == 0 and not cluster.stored


def test_a_cluster_known_to_lack_the_package_gets_it_shipped_without_a_probe(monkeypatch) -> None:
    cluster = _Cluster(monkeypatch, ray_package.SHIP, native=True)
    assert connect(cluster.ray, address="10.0.0.1:6379") == ("10.0.0.1:6379", True, None)
    assert [c.get("runtime_env") for c in cluster.calls] == [package_runtime_env()]
    assert cluster.probes == 0


@pytest.mark.parametrize("native", [True, False, None], ids=["has-it", "lacks-it", "no-answer"])
def test_a_cluster_that_does_not_know_is_asked_once_and_remembers(monkeypatch, native) -> None:
    cluster = _Cluster(monkeypatch, None, native=native)
    _, owned, expected = connect(cluster.ray, address="10.0.0.1:6379")
    assert owned and cluster.probes == 1
    if native:
        assert expected == ray_package.fingerprint() and len(cluster.calls) == 1
        assert cluster.stored == [ray_package.NATIVE]
    else:  # joined again, with the package; a probe that got no answer is not remembered
        assert expected is None and cluster.stored == ([ray_package.SHIP] if native is False else [])
        assert cluster.calls[1] == {"shutdown": True}
        assert cluster.calls[2]["runtime_env"] == package_runtime_env()


def test_a_ray_client_address_always_gets_the_package(monkeypatch) -> None:
    """A Ray Client cannot read the cluster's store before joining: it ships, as before, without a probe."""
    real = ray_package.remembered
    cluster = _Cluster(monkeypatch, None, native=True)
    monkeypatch.setattr(ray_package, "remembered", real)
    assert connect(cluster.ray, address="ray://head:10001")[2] is None
    assert cluster.probes == 0 and cluster.calls[0]["runtime_env"] == package_runtime_env()


def _run(tmp_path, monkeypatch, expected: str | None):
    monkeypatch.setattr(ray_task, "_node", "node-1")
    forgotten: list[str] = []
    monkeypatch.setattr(ray_package, "forget", forgotten.append)
    job = make_job(tmp_path, "t", 'echo ran > "$o"')
    data = ray_codec.payload(ray_codec.shared_options(JobOptions(), expected), job, 1, 5.0)
    return ray_codec.read_outcome(ray_task.run_task(data)), job, forgotten


def test_a_worker_with_another_package_runs_nothing_and_makes_the_cluster_forget(tmp_path, monkeypatch) -> None:
    outcome, job, forgotten = _run(tmp_path, monkeypatch, "not-this-package")
    assert outcome.status is JobStatus.FAILED and "hypermetric package of this Ray worker" in outcome.reason
    assert "did not run" in outcome.reason and "ships the package" in outcome.reason
    assert forgotten == ["not-this-package"]
    assert not os.path.exists(job.workdir)  # nothing of the job was touched


@pytest.mark.parametrize("expected", ["this", None], ids=["same-package", "shipped"])
def test_a_worker_with_the_package_or_a_shipped_one_runs_the_job(tmp_path, monkeypatch, expected) -> None:
    outcome, job, forgotten = _run(tmp_path, monkeypatch, ray_package.fingerprint() if expected else None)
    assert outcome.status is JobStatus.SUCCESS and not forgotten
    assert open(os.path.join(job.workdir, "o")).read() == "ran\n"
