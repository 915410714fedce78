"""The go-ahead gate: a gated command runs only once it is let through, exits without running when the gate
is closed, and runs as it would have without the gate (environment, standard input, exit status)."""

from __future__ import annotations

import os
import subprocess

import pytest

from hypermetric.store import gate as gate_module
from hypermetric.store.gate import CLOSED, Gate

TIMEOUT = 60.0
SHELLS = [["bash", "-e"], ["bash", "-euo", "pipefail"], ["bash", "-x"], ["sh", "-e"]]


def _run(argv: list[str], env: dict[str, str], cwd, *, gated: bool, go: bool = True) -> int:
    if not gated:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc.wait(TIMEOUT)
    gate = Gate()
    argv, env = gate.command(argv, env)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=gate.stdin, stderr=subprocess.DEVNULL)
    if go:
        gate.open()
    else:
        gate.close()
    return proc.wait(TIMEOUT)


def _script(tmp_path, text: str) -> str:
    path = tmp_path / "script"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
def test_a_closed_gate_runs_nothing_and_an_open_one_runs_the_command(tmp_path, shell) -> None:
    script = _script(tmp_path, "touch ran\n")
    assert _run([*shell, script], dict(os.environ), tmp_path, gated=True, go=False) == CLOSED
    assert not (tmp_path / "ran").exists()
    assert _run([*shell, script], dict(os.environ), tmp_path, gated=True) == 0
    assert (tmp_path / "ran").exists()


@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
def test_the_command_sees_the_environment_and_stdin_it_would_see_ungated(tmp_path, shell) -> None:
    env = {**os.environ, "a.b": "dotted", "X-Y": "dashed", "SPACES": "a  b", "NL": "one\ntwo"}
    env.pop("BASH_ENV", None)
    script = _script(tmp_path, 'env > "$OUT"; readlink /proc/$$/fd/0 > "$OUT.stdin"\n')
    seen = []
    for gated in (False, True):
        out = tmp_path / f"env.{gated}"
        assert _run([*shell, script], {**env, "OUT": str(out)}, tmp_path, gated=gated) == 0
        # `_` (the last command's path, which shells set for the programs they start) is no setting
        lines = out.read_text().replace(str(out), "OUT").split("\n")
        seen.append(sorted(line for line in lines if not line.startswith("_=")))
        assert (tmp_path / f"env.{gated}.stdin").read_text() == "/dev/null\n"
    assert seen[0] == seen[1]
    assert "BASH_ENV" not in (tmp_path / "env.True").read_text()


def test_a_bash_env_of_the_callers_own_is_still_read(tmp_path) -> None:
    (tmp_path / "own").write_text("export FROM_OWN=yes\n")
    script = _script(tmp_path, 'echo "$FROM_OWN $BASH_ENV" > seen\n')
    env = {**os.environ, "BASH_ENV": str(tmp_path / "own")}
    assert _run(["bash", "-e", script], env, tmp_path, gated=True) == 0
    assert (tmp_path / "seen").read_text() == f"yes {tmp_path / 'own'}\n"


def test_a_command_that_cannot_start_exits_127_naming_it(tmp_path) -> None:
    gate = Gate()
    argv, env = gate.command(["/nonexistent/shell", "script"], dict(os.environ))
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=gate.stdin, stderr=subprocess.PIPE, text=True)
    gate.open()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 127 and "/nonexistent/shell" in err


@pytest.mark.parametrize("argv,env,reads", [
    (["bash", "-e", "s"], {}, True),
    (["/usr/bin/bash", "-euo", "pipefail", "s"], {}, True),
    (["bash", "--norc", "-e", "-o", "nounset", "s"], {}, True),
    (["bash", "-ex", "s"], {}, False),          # the trace would show the gate
    (["bash", "-o", "xtrace", "s"], {}, False),
    (["bash", "--posix", "s"], {}, False),      # POSIX mode reads no BASH_ENV
    (["bash", "-e", "-c", "true"], {}, False),
    (["sh", "-e", "s"], {}, False),
    (["bash", "-e", "s"], {"BASH_ENV": "/x"}, False),
])
def test_which_commands_bash_gates_itself(argv, env, reads) -> None:
    assert gate_module._reads_bash_env(argv, env) is reads
