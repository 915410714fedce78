"""The Ray backend's parts that need no cluster: resources, joining, output tailing, the worker side."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest
from jobs import make_job, read
from support.waiting import BOUND, wait_until

from hypermetric.errors import UsageError
from hypermetric.execution import ray_package, ray_task
from hypermetric.execution.protocol import JobOptions
from hypermetric.execution.ray_cluster import (
    connect,
    package_runtime_env,
    runner_host,
    runners_usable,
    task_options,
    unplaceable,
)
from hypermetric.execution.ray_output import OutputTail
from hypermetric.plan.job import Resources
from hypermetric.store.status import JobStatus

GiB = 2**30


def test_resources_become_ray_task_options() -> None:
    assert task_options(Resources()) == {"num_cpus": 1.0, "num_gpus": 0.0}
    res = Resources(cpus=4, gpus=0.5, memory=16 * GiB, custom=(("ssd", 1.0),))
    assert task_options(res) == {"num_cpus": 4, "num_gpus": 0.5, "memory": 16 * GiB,
                                 "resources": {"ssd": 1.0}}


def test_jobs_no_node_can_hold_are_named() -> None:
    nodes = [{"CPU": 2.0, "memory": 8.0 * GiB}, {"CPU": 8.0, "GPU": 1.0, "memory": 64.0 * GiB, "ssd": 1.0}]
    assert unplaceable(Resources(cpus=8, gpus=1, custom=(("ssd", 1.0),)), nodes) is None
    assert unplaceable(Resources(cpus=0.5, memory=32 * GiB), nodes) is None
    reason = unplaceable(Resources(cpus=4, gpus=2), nodes)
    assert reason == "no node of the Ray cluster has CPU=4, GPU=2 (the most any node has: CPU=8, GPU=1)"
    assert "memory=128.0GiB" in unplaceable(Resources(memory=128 * GiB), nodes)
    assert unplaceable(Resources(gpus=1), []) is None  # nothing known: let Ray decide


def _fake_ray(initialized: bool = False, error: Exception | None = None) -> SimpleNamespace:
    calls: list[dict] = []

    def init(**kwargs):
        calls.append(kwargs)
        if error is not None:
            raise error

    context = SimpleNamespace(gcs_address="10.0.0.1:6379")
    return SimpleNamespace(is_initialized=lambda: initialized, init=init, calls=calls,
                           shutdown=lambda: calls.append({"shutdown": True}),
                           get_runtime_context=lambda: context)


def test_connect_reuses_joins_with_the_package_or_starts_a_local_ray(monkeypatch) -> None:
    ray = _fake_ray(initialized=True)
    assert connect(ray) == ("10.0.0.1:6379", False, None) and not ray.calls
    ray = _fake_ray()
    assert connect(ray) == ("10.0.0.1:6379", True, None)
    assert ray.calls[0]["address"] == "local" and ray.calls[0]["include_dashboard"] is False
    assert "runtime_env" not in ray.calls[0]
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    monkeypatch.setattr(ray_package, "remembered", lambda address, stamp: ray_package.SHIP)
    ray = _fake_ray()
    assert connect(ray) == ("10.0.0.1:6379", True, None)
    assert ray.calls[0]["address"] == "10.0.0.1:6379"
    assert ray.calls[0]["runtime_env"] == package_runtime_env()
    (package,) = package_runtime_env()["py_modules"]
    assert os.path.isfile(os.path.join(package, "execution", "ray_task.py"))
    with pytest.raises(UsageError, match="cannot start or join the Ray cluster at 10.0.0.1:6379"):
        connect(_fake_ray(error=ConnectionError("refused")))


def test_output_tail_reads_new_lines_and_skips_an_earlier_runs_file(tmp_path) -> None:
    job, probe = make_job(tmp_path, "t"), make_job(tmp_path, "probe")
    for j in (job, probe):
        os.makedirs(j.workdir)
    stdout = os.path.join(job.workdir, "stdout")
    with open(stdout, "w") as f:
        f.write("old\n")
    seen: list[tuple[str, str, str]] = []
    tail = OutputTail(lambda j, stream, line: seen.append((j.id, stream, line)), interval=0.02)
    tail.watch(job)
    tail.watch(probe)
    with open(os.path.join(probe.workdir, "stdout"), "w") as f:
        f.write("probe\n")
    # a sweep reads the jobs in the order they were watched: once the probe's line is in, `t`'s earlier
    # file has been looked at too
    wait_until(lambda: ("probe", "stdout", "probe") in seen, what="a sweep of the watched jobs")
    tail.finish(probe.id)
    assert seen == [("probe", "stdout", "probe")]
    del seen[:]
    os.unlink(stdout)
    with open(stdout, "w") as f, open(os.path.join(job.workdir, "stderr"), "w") as e:
        f.write("one\ntw")
        f.flush()
        e.write("err\n")
        e.flush()
        wait_until(lambda: len(seen) >= 2, what="the new lines")
        assert sorted(seen) == [("t", "stderr", "err"), ("t", "stdout", "one")]
        f.write("o\nthree")
    tail.finish(job.id)
    tail.close()
    assert [line for _, stream, line in seen if stream == "stdout"] == ["one", "two", "three"]


def test_output_tail_reports_a_start_when_the_attempt_creates_its_stdout(tmp_path) -> None:
    queued, quick, probe = (make_job(tmp_path, name) for name in ("queued", "quick", "probe"))
    for j in (queued, quick, probe):
        os.makedirs(j.workdir)
    with open(os.path.join(queued.workdir, "stdout"), "w") as f:
        f.write("an earlier run's\n")
    events: list[tuple[str, ...]] = []
    tail = OutputTail(None, interval=0.02, on_start=lambda j, attempt: events.append(("start", j.id, str(attempt))))
    tail.watch(queued, 2)
    tail.watch(quick)
    tail.watch(probe)
    with open(os.path.join(probe.workdir, "stdout"), "w"):
        pass
    # a sweep looks at the jobs in the order they were watched: once the probe has started, the earlier
    # run's file of `queued` has been looked at and taken for what it is
    wait_until(lambda: ("start", "probe", "1") in events, what="a sweep of the watched jobs")
    assert events == [("start", "probe", "1")]
    os.unlink(os.path.join(queued.workdir, "stdout"))
    with open(os.path.join(queued.workdir, "stdout"), "w"):
        pass
    wait_until(lambda: ("start", "queued", "2") in events, what="the retried attempt's start")
    tail.finish(queued.id)
    # a job that started and ended between two sweeps is reported as started before it is finished
    tail.close()
    with open(os.path.join(quick.workdir, "stdout"), "w") as f:
        f.write("done\n")
    tail.finish(quick.id)
    # a job that ends without having created its stdout (refused, or failed before its script) never started
    never = make_job(tmp_path, "never")
    tail.watch(never)
    tail.finish(never.id)
    assert events == [("start", "probe", "1"), ("start", "queued", "2"), ("start", "quick", "1")]


def test_output_tail_reports_the_start_before_the_output_lines(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    seen: list[tuple[str, str]] = []
    tail = OutputTail(lambda j, stream, line: seen.append((stream, line)), interval=60.0,
                      on_start=lambda j, attempt: seen.append(("start", j.id)))
    tail.watch(job)
    with open(os.path.join(job.workdir, "stdout"), "w") as f:
        f.write("one\ntwo")
    tail.finish(job.id)
    tail.close()
    assert seen == [("start", "t"), ("stdout", "one"), ("stdout", "two")]


def test_run_on_worker_records_the_node_and_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ray_task, "_node", "node-1")
    monkeypatch.setattr(ray_task, "_watchdog", None)
    monkeypatch.setenv("HYPERMETRIC_PYTHON", "")  # so that the teardown restores whatever was there
    monkeypatch.delenv("HYPERMETRIC_PYTHON")
    job = make_job(tmp_path, "t", 'echo "$RAY_ADDRESS $HYPERMETRIC_PYTHON" > "$o"')
    options = JobOptions(env=(("RAY_ADDRESS", "10.0.0.1:6379"),))
    outcome = ray_task.run_on_worker(job, options, 2)
    assert outcome.status is JobStatus.SUCCESS
    assert read(os.path.join(job.workdir, "o")).split() == ["10.0.0.1:6379", sys.executable]
    info = json.loads(read(os.path.join(job.workdir, "job.json")))
    assert info["node"] == "node-1" and info["attempt"] == 2


def test_a_script_killed_by_sigkill_waits_before_its_exit_code_is_recorded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ray_task, "_node", "node-1")
    monkeypatch.setattr(ray_task, "KILL_SETTLE", 0.3)
    job = make_job(tmp_path, "t", "kill -9 $$")
    start = time.monotonic()
    outcome = ray_task.run_on_worker(job, JobOptions(), 1)
    assert time.monotonic() - start >= 0.3
    assert outcome.status is JobStatus.FAILED and outcome.exit_code == 137


WORKER = """
import os, subprocess, sys, time
from hypermetric.execution.ray_task import Watchdog
lock = sys.argv[1]
open(lock, "w").close()
script = subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 600 & echo $! > " + sys.argv[2] + "; wait"],
                          start_new_session=True)
guard = Watchdog(grace=0.5)
guard.guard(script.pid, lock)
print(script.pid, flush=True)
time.sleep(60)
"""


def test_the_watchdog_ends_the_jobs_of_a_killed_worker_and_removes_their_lock(tmp_path) -> None:
    lock, child = tmp_path / ".lock", tmp_path / "child"
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER), str(lock), str(child)],
                              stdout=subprocess.PIPE, text=True)
    pgid = 0
    try:
        pgid = int(worker.stdout.readline())  # printed once the script's group is registered
        wait_until(lambda: child.exists() and child.read_text().strip(), what="the script's child")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(BOUND)
        wait_until(lambda: not _group_alive(pgid), what="the watchdog to end the script's process group")
        wait_until(lambda: not lock.exists(), what="the watchdog to remove the lock")
    finally:
        worker.kill()
        if pgid and _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def test_an_embedded_ray_has_a_cpu_slot_for_each_of_j_jobs(monkeypatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray = _fake_ray()
    connect(ray, 64)
    assert ray.calls[0]["num_cpus"] == max(64, os.cpu_count() or 1)
    ray = _fake_ray()
    connect(ray)
    assert ray.calls[0]["num_cpus"] == (os.cpu_count() or 1)


def test_runners_listen_on_a_unix_socket_here_and_on_the_nodes_address_on_a_joined_cluster(monkeypatch) -> None:
    client = SimpleNamespace(connected=False)
    ray = SimpleNamespace(util=SimpleNamespace(get_node_ip_address=lambda: "10.0.0.7",
                                               client=SimpleNamespace(ray=SimpleNamespace(
                                                   is_connected=lambda: client.connected))))
    assert runner_host(ray, True) is None and runner_host(ray, False) == "10.0.0.7"
    monkeypatch.delenv("RAY_USE_TLS", raising=False)
    assert runners_usable(ray)
    client.connected = True   # through Ray Client the driver is elsewhere: runners could not reach it
    assert not runners_usable(ray)
    client.connected = False
    monkeypatch.setenv("RAY_USE_TLS", "1")   # the runners' socket would carry jobs in the clear
    assert not runners_usable(ray)
