"""End-to-end fixtures: one local Ray cluster for the whole session, and the `backend` parameter.

The cluster is started once (a head node with 2 CPUs and 2 logical GPUs, no dashboard) and this process joins
it as a driver. Tests on the `ray` backend get `RAY_ADDRESS` set to it, so `--backend ray` (and `auto`)
join it instead of starting a Ray of their own; CLI subprocesses join it the way a user's run joins a
cluster. Tests that need a second node add one (`two_nodes`) and remove it afterwards, whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """The session's `ray.cluster_utils.Cluster`, with this process connected to it."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 2, "num_gpus": 2, "include_dashboard": False})
    try:
        if ray.is_initialized():
            ray.shutdown()
        ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.ERROR)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture
def two_nodes(ray_cluster: Any) -> Iterator[Any]:
    """The session cluster with a second node (1 CPU, custom resource `side`), removed after the test."""
    node = ray_cluster.add_node(num_cpus=1, resources={"side": 1})
    try:
        ray_cluster.wait_for_nodes()
        yield node
    finally:
        ray_cluster.remove_node(node)


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.ray)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """`local` or `ray`; for `ray`, `RAY_ADDRESS` names the session cluster."""
    if request.param == "ray":
        cluster = request.getfixturevalue("ray_cluster")
        monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    return request.param
