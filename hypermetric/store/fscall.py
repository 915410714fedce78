"""Calling one function of a file-system object (`exists`, `upload`, ...) or runner object (`submit`, `poll`,
`cancel`): its body as a script run locally.

Each call writes the function body to a temporary file and runs `<shell words> <file>` in a new session, with
the parent environment plus the object's variables, the function's defaults and the call's arguments (bound
to the parameters in order). Calls are logged to the `hypermetric.fs` logger at INFO level, as HM's `-v`
prints them (`❯ Calling s3.exists t/default/o` / `❮ Returned 0 from s3.exists t/default/o`); nothing is
printed here. This lives in the store layer because status checks and `remove`/`touch` need it too.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hypermetric.errors import FileSystemError
from hypermetric.plan.job import LOCAL, FileSystemSpec, Job, ShellFunction
from hypermetric.store.gate import Gate

LOGGER_NAME = "hypermetric.fs"
LOG = logging.getLogger(LOGGER_NAME)
DEFAULT_SHELL: tuple[str, ...] = ("bash", "-e")
_LOCAL_SIDE = frozenset({"upload", "download"})

SpawnHook = Callable[[subprocess.Popen], None]


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a function call printed and its exit status."""

    code: int
    stdout: str
    stderr: str


def call_function(owner: str, func: ShellFunction, args: Sequence[str], *,
                  variables: Sequence[tuple[str, str]] = (), cwd: str = "",
                  shell: Sequence[str] = DEFAULT_SHELL, env: Mapping[str, str] | None = None,
                  on_spawn: SpawnHook | None = None) -> CallResult:
    """Run `func` of object `owner` with positional `args`; `env` replaces this process's environment."""
    if len(args) > len(func.params):
        raise FileSystemError(f"`{owner}.{func.name}` takes {len(func.params)} arguments, not {len(args)}")
    full = dict(os.environ if env is None else env)
    full.update(variables)
    full.update(func.defaults)
    full.update(zip(func.params, args))
    shown = " ".join(args)
    LOG.info("❯ Calling %s.%s %s", owner, func.name, shown)
    fd, path = tempfile.mkstemp(prefix=f"hm-{func.name}-", suffix=".sh")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(func.script)
        code, out, err = _run([*shell, path], cwd or None, full, on_spawn)
    finally:
        os.unlink(path)
    LOG.info("❮ Returned %d from %s.%s %s", code, owner, func.name, shown)
    return CallResult(code, out, err)


def _run(argv: list[str], cwd: str | None, env: dict[str, str],
         on_spawn: SpawnHook | None) -> tuple[int, str, str]:
    # A guarded call waits behind a gate until `on_spawn` has registered it (see `gate`).
    gate = Gate() if on_spawn is not None else None
    if gate is not None:
        argv, env = gate.command(argv, env)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL if gate is None else gate.stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        if gate is not None:
            gate.close()
        raise FileSystemError(f"cannot run {argv[0]}: {e}") from None
    try:
        if on_spawn is not None and gate is not None:
            on_spawn(proc)
            gate.open()
        out, err = proc.communicate()
    except BaseException:
        if gate is not None:
            gate.close()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        raise
    code = proc.returncode
    return (128 - code if code < 0 else code), out.decode(errors="replace"), err.decode(errors="replace")


def fs_call(spec: FileSystemSpec, op: str, *args: str, shell: Sequence[str] = DEFAULT_SHELL,
            check: bool = True, on_spawn: SpawnHook | None = None) -> CallResult:
    """Call operation `op` of the file system; with `check`, a non-zero exit is a `FileSystemError`.

    Upload and download run in the local output root (their local-side paths are relative to it), every
    other operation in the invocation directory.
    """
    func = spec.function(op)
    if func is None:
        raise FileSystemError(f"file system `{spec.name}` has no function `{op}`")
    cwd = spec.local_root if op in _LOCAL_SIDE else spec.cwd
    if cwd:
        os.makedirs(cwd, exist_ok=True)
    result = call_function(spec.name, func, args, variables=spec.variables, cwd=cwd, shell=shell,
                           on_spawn=on_spawn)
    if check and result.code != 0:
        raise FileSystemError(failure_message(spec.name, op, args, result))
    return result


def failure_message(owner: str, op: str, args: Sequence[str], result: CallResult) -> str:
    """`s3.upload a b failed with exit code 1: <last line of stderr>` (`op` empty: a root-level function)."""
    last = next((line for line in reversed(result.stderr.splitlines()) if line.strip()), "")
    detail = f": {last.strip()}" if last else ""
    name = f"{owner}.{op}" if op else owner
    return f"{name} {' '.join(args)} failed with exit code {result.code}{detail}"


def exists(spec: FileSystemSpec, path: str, shell: Sequence[str] = DEFAULT_SHELL) -> bool:
    """Whether `path` (relative to the file system's root) exists: `exists` exits 0."""
    return fs_call(spec, "exists", path, shell=shell, check=False).code == 0


class _Forward(logging.Handler):
    def __init__(self, write: Callable[[str], object]) -> None:
        super().__init__(logging.INFO)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        self._write(record.getMessage())


def log_calls(write: Callable[[str], object]) -> Callable[[], None]:
    """Hand every `❯ Calling …`/`❮ Returned …` line to `write` (the CLI's `-v`); returns the undo."""
    handler = _Forward(write)
    LOG.addHandler(handler)
    level = LOG.level
    LOG.setLevel(logging.INFO)

    def undo() -> None:
        LOG.removeHandler(handler)
        LOG.setLevel(level)
    return undo


def job_file_systems(job: Job) -> list[FileSystemSpec]:
    """The custom file systems that hold a directory of `job`: those of its outputs and of the inputs it
    expects there (an input transferred to a file system lands in the job's path on it)."""
    names = [fs for _, fs in job.output_fs] + [link.fs for link in job.inputs if link.link]
    return [job.file_system(n) for n in dict.fromkeys(names) if n != LOCAL]
