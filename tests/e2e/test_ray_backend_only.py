"""What only the Ray backend does, through the CLI: `auto` choosing it, jobs that use the cluster they run on,
resources no node has, a killed worker, Ctrl-C, and two nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from support.waiting import BOUND, alive, rendezvous, wait_until, waits_for_child

from hypermetric.execution import ray_package


def run(project, backend: str, *args: str):
    return project.run("run", *args, "--backend", backend)


def job_json(project, path: str) -> dict:
    return json.loads(project.read(path, "job.json"))


@pytest.mark.ray
def test_auto_picks_ray_exactly_when_an_address_is_set(project, ray_cluster, monkeypatch):
    project.write("main.hm", """
    a = {A: x y}
    task t(a=$) -> o:
      echo "$a" > $o
    """)
    run(project, "auto", "t").ok()
    assert "node" not in job_json(project, "out/t/default")
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    run(project, "auto", "t[A: y]").ok()
    assert job_json(project, "out/t/A=y")["node"] == ray_cluster.head_node.node_id


@pytest.mark.ray
def test_jobs_can_use_the_cluster_they_run_on(project, ray_cluster, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    project.write("use_ray.py", """
    import ray
    ray.init(log_to_driver=False)
    print(ray.get(ray.remote(lambda: 6 * 7).remote()))
    """)
    project.write("main.hm", f"""
    task t -> o:
      echo "$RAY_ADDRESS" > $o
      "$HYPERMETRIC_PYTHON" {project.root}/use_ray.py >> $o
    """)
    run(project, "ray", "t").ok()
    assert project.read("out/t/default/o").split() == [ray_cluster.address, "42"]


@pytest.mark.ray
def test_resources_no_node_has_fail_at_once(project, ray_cluster, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    project.write("main.hm", """
    import resources
    @resources.resources(custom="tpu=8")
    task t -> o:
      touch $o
    """)
    result = run(project, "ray", "t")
    assert result.code == 1
    assert "no node of the Ray cluster has CPU=1, tpu=8" in result.out + result.err


@pytest.fixture(params=["joined", "embedded"])
def ray_env(request, monkeypatch) -> dict[str, str]:
    """The environment of a CLI run in a subprocess on the session's cluster (`joined`: a Ray task per job), or
    on a Ray the CLI starts itself (`embedded`: jobs share runners, `ray_pull`)."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    if request.param == "joined":
        env["RAY_ADDRESS"] = request.getfixturevalue("ray_cluster").address
    return env


@pytest.mark.ray
def test_a_killed_worker_is_retried_and_the_job_completes_once(project, ray_env):
    log = project.path("executions.log")
    project.write("main.hm", f"""
    task t -> o:
      echo start >> {log}
      if [ ! -e {project.root}/first ]; then echo $$ > {project.root}/first; {project.until_killed()}; fi
      echo done >> {log}
      touch $o
    """)
    lock = project.path("out/t/default/.lock")
    killed: list[int] = []
    failed: list[BaseException] = []

    def kill_the_worker() -> None:
        # The worker registers the script with its watchdog between spawning it and waiting for it: killed
        # in between, it would leave the script unguarded. So the kill waits until the worker waits.
        try:
            wait_until(lambda: script_pid(project) and holder_pid(lock), what="the first attempt")
            worker, script = holder_pid(lock), script_pid(project)
            wait_until(lambda: waits_for_child(worker, script), what="the worker to wait for its script")
            killed.append(worker)
            os.kill(worker, signal.SIGKILL)
        except BaseException as e:  # the run goes on without the kill; the test then fails with this
            failed.append(e)

    killer = threading.Thread(target=kill_the_worker, daemon=True)
    killer.start()
    try:
        project.sh("run", "t", "--backend", "ray", env=ray_env).ok()
        killer.join(BOUND)
        assert not failed, failed
        assert killed and killed[0] != os.getpid()
        # the watchdog ended the orphaned script (else it would block for good)
        wait_until(lambda: not alive(script_pid(project)), what="the orphaned script to end")
        assert log.read_text().split() == ["start", "start", "done"]
        assert job_json(project, "out/t/default")["attempt"] == 1   # Ray's retry, not a --retries attempt
    finally:
        stop_group(script_pid(project))


def script_pid(project) -> int:
    """The pid the first attempt's script wrote to `first` (the leader of its process group), or 0."""
    try:
        return int(project.read("first").strip() or 0)
    except (OSError, ValueError):
        return 0


def holder_pid(lock) -> int:
    """The pid in a held lock file (`pid@host`), or 0."""
    try:
        text = lock.read_text()
    except OSError:
        return 0
    return int(text.split("@")[0]) if "@" in text else 0


def stop_group(pgid: int) -> None:
    """Kill what a failed test left running in process group `pgid`."""
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


def _cli(project, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hypermetric", *args], cwd=project.root, text=True,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


@pytest.mark.ray
def test_ctrl_c_cancels_the_ray_tasks_and_kills_their_scripts(project, ray_env):
    project.write_jobs_until_killed()
    proc = _cli(project, ray_env, "run", "t[N: *]", "-j2", "--backend", "ray")
    cases = ("default", "N=2")
    locks = [project.path(f"out/t/{case}/.lock") for case in cases]
    pids: list[int] = []
    try:
        wait_until(lambda: all(project.path(f"pid.{n}").exists() for n in (1, 2)), what="both jobs")
        pids = [int(project.read(f"pid.{n}")) for n in (1, 2)]
        # each worker waits for its script once the script is registered with the worker's watchdog
        for n, lock in zip((1, 2), locks):
            wait_until(lambda: holder_pid(lock) and waits_for_child(holder_pid(lock), pids[n - 1]),
                       what=f"job {n}'s worker to wait for its script")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(BOUND) == 130, proc.stderr.read()
        wait_until(lambda: not any(alive(pid) for pid in pids), what="the scripts to end")
        for case in cases:
            assert not project.path(f"out/t/{case}/exitcode").exists()
        wait_until(lambda: not any(lock.exists() for lock in locks), what="the locks to go")
    finally:
        proc.kill()
        for pid in pids:
            stop_group(pid)


@pytest.mark.ray
def test_jobs_land_on_both_nodes_of_a_two_node_cluster(project, ray_cluster, two_nodes):
    # Three `t` jobs must run at once before any may end, and the head node holds two: one runs on the other.
    together = rendezvous(project.path("started"), "$n", 3).replace("\n", "\n      ")
    project.write("main.hm", f"""
    import resources
    n = {{N: 1 2 3 4}}
    task t(n=$) -> o:
      {together}echo "$PYTHONPATH" > $o
    @resources.resources(custom="side=1")
    task pinned -> o:
      touch $o
    plan all = {{ t[N: *] pinned }}
    """)
    # the cluster says its workers lack this package (they have it: it runs from this checkout), so it is shipped
    stamp = ray_package.fingerprint.__wrapped__()
    ray_package.remember(stamp, ray_package.SHIP)
    proc = _cli(project, {**os.environ, "RAY_ADDRESS": ray_cluster.address}, "run", "all", "-j5")
    try:
        out, err = proc.communicate(timeout=2 * BOUND)
    finally:
        proc.kill()
        ray_package.forget(stamp)
    assert proc.returncode == 0, out + err
    cases = ("default", "N=2", "N=3", "N=4")
    nodes = {job_json(project, f"out/t/{c}")["node"] for c in cases}
    assert nodes == {ray_cluster.head_node.node_id, two_nodes.node_id}
    assert job_json(project, "out/pinned/default")["node"] == two_nodes.node_id
    assert "_ray_pkg_" in project.read("out/t/default/o")   # hypermetric was shipped to the workers
