"""A wrong Ray address, through the real CLI: a closed port, or one where something other than a Ray head
listens, is a quick user error (exit 2) that names the address, where Ray itself would retry for minutes or
for ever."""

from __future__ import annotations

import socket

import pytest

TIMEOUT = 60.0  # bounds a failure only; nothing waits for it to pass


def test_an_unreachable_ray_address_is_a_user_error_naming_it(project):
    pytest.importorskip("ray")
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    project.write("main.hm", """
    task t -> o:
      touch $o
    """)
    result = project.sh("run", "t", "--ray-address", f"127.0.0.1:{port}", timeout=TIMEOUT)
    assert result.code == 2, result.err
    assert f"error: cannot reach the Ray cluster at 127.0.0.1:{port}" in result.err
    assert "Traceback" not in result.err and "--backend local" in result.err


def test_a_ray_address_where_something_else_listens_is_a_quick_user_error(project):
    """Ray would retry such an address for ever; the probe gives up after its timeout (10 s)."""
    pytest.importorskip("ray")
    project.write("main.hm", """
    task t -> o:
      touch $o
    """)
    with socket.socket() as server:  # a loopback listener that never says a word
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        result = project.sh("run", "t", "--ray-address", address, timeout=TIMEOUT)
    assert result.code == 2, result.err
    assert f"error: cannot join the Ray cluster at {address}" in result.err and "not a Ray head" in result.err
    assert "Traceback" not in result.err and "--backend local" in result.err
    assert not project.path("out/t/default/exitcode").exists()


@pytest.mark.ray
def test_a_local_ray_that_cannot_start_is_a_user_error(project, tmp_path, monkeypatch):
    """Ray puts its sockets under `TMPDIR`; one too deep for a socket's path stops it from starting."""
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    project.write("main.hm", """
    task t -> o:
      touch $o
    """)
    for name in ("RAY_ADDRESS", "RAY_TMPDIR"):
        monkeypatch.delenv(name, raising=False)
    result = project.sh("run", "t", "--backend", "ray", timeout=TIMEOUT, env={"TMPDIR": str(deep)})
    assert result.code == 2, result.err   # was 70, "internal error"
    assert "error: cannot start or join a local Ray" in result.err and "Traceback" not in result.err
    assert not project.path("out/t/default/exitcode").exists()
