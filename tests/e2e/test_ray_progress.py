"""What `run` shows while jobs wait for a Ray worker: QUEUED until their script starts, then RUNNING.

Ray queues a task until a worker with its resources is free, so handing a job to Ray does not start it. The
session cluster has 2 CPUs: of four one-CPU jobs that each wait for their own gate file, two run and two wait,
and nothing but an opened gate lets a third one start, so what the terminal shows before then is final.
"""

from __future__ import annotations

import os
import re
import sys

import pytest
from support.terminal import Terminal
from support.waiting import wait_until

PIPELINE = """\
n = {N: 1 2 3 4}
task t(n=$) -> o:
  touch "ROOT/started/$n"
  while [ ! -e "ROOT/gates/$n" ]; do sleep 0.05; done
  touch $o
"""
CASES = {"1": "t[default]", "2": "t[N: 2]", "3": "t[N: 3]", "4": "t[N: 4]"}


def _running(text: str) -> list[str]:
    return re.findall(r"(t\[[^\]]*\]): RUNNING", text)


@pytest.mark.ray
def test_jobs_waiting_for_a_ray_worker_are_queued_until_their_script_starts(project, ray_cluster, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    for name in ("started", "gates"):
        project.path(name).mkdir()
    project.write("main.hm", PIPELINE.replace("ROOT", str(project.root)))
    term = Terminal([sys.executable, "-m", "hypermetric", "run", "main.hm", "t[N: *]", "-j4", "--backend", "ray"],
                    str(project.root))
    try:
        term.read_until(r"2 running, 2 queued")
        # a job shows as running once its `stdout` exists, a moment before its script marks it started
        wait_until(lambda: len(os.listdir(project.path("started"))) >= 2, what="two jobs to start")
        started = sorted(os.listdir(project.path("started")))
        assert len(started) == 2, started
        for n in started:
            term.read_until(re.escape(CASES[n]) + r": RUNNING")
        assert sorted(_running(term.text)) == sorted(CASES[n] for n in started), term.text
        assert not re.search(r"[34] running", term.text), term.text
        for n in started:
            project.path("gates", n).touch()
        rest = sorted(set(CASES) - set(started))
        for n in rest:
            term.read_until(re.escape(CASES[n]) + r": RUNNING")
        for n in rest:
            project.path("gates", n).touch()
        assert term.read_to_end() == 0, term.text
    finally:
        term.close()
    assert sorted(_running(term.text)) == sorted(CASES.values())
    assert "4 succeeded" in term.text
