"""A fluent temp-dir harness: write `.hm` files, run the CLI in-process or as a subprocess, check results."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path


@dataclass
class Result:
    code: int
    out: str
    err: str

    def ok(self) -> Result:
        assert self.code == 0, f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"
        return self

    def user_error(self) -> Result:
        assert self.code == 2, f"expected exit 2, got {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"
        assert "Traceback" not in self.err
        return self


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str) -> Project:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return self

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def read(self, *parts: str) -> str:
        return self.path(*parts).read_text()

    def run(self, *args: str) -> Result:
        """The CLI in-process (fast)."""
        from hypermetric.cli.app import main

        out, err = StringIO(), StringIO()
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = main(list(args))
        finally:
            os.chdir(cwd)
        return Result(code, out.getvalue(), err.getvalue())

    def sh(self, *args: str, timeout: float = 120, env: dict | None = None, **kw) -> Result:
        """The CLI as a real subprocess (exit codes, signals, import hygiene)."""
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, env=full_env, **kw)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def until_killed(self) -> str:
        """A shell command that blocks until its process is killed: it opens a FIFO of this project for
        reading, which no one ever writes (no time bound to outlast, nothing to wait on but the kill)."""
        fifo = self.path("never")
        if not fifo.exists():
            os.mkfifo(fifo)
        return f'read _ < "{fifo}"'

    def write_jobs_until_killed(self) -> Project:
        """A `main.hm` whose jobs `t[N: 1 2]` write their shell's pid to `pid.N`, then block until killed."""
        return self.write("main.hm", f"""
        n = {{N: 1 2}}
        task t(n=$) -> o:
          echo $$ > {self.root}/pid.$n
          {self.until_killed()}
          touch $o
        """)
