"""A go-ahead gate: a child process that starts, then waits to be let through before it runs its command.

A runner registers the process group of everything it spawns with its watchdog (`execution.watchdog`), so
that the group dies with the runner. The group's id is the child's pid, so registering can only follow the
spawn, and a runner killed in between would leave the command running unguarded. A guarded command is
therefore started behind a gate: the child first reads one line from a pipe on its standard input, and only
then runs the command, with standard input from `/dev/null`, in the same process and so in the same process
group. The runner writes that line once the group is registered. If the runner dies first, the kernel closes
the pipe's write end (it lives only in the runner: it is not inheritable, and every child is started with the
other descriptors closed), the read sees end-of-file and the child exits with status 125 without running
anything.

Who reads the line depends on the command:
- bash running a script file with plain options (the default `bash -e`): bash itself, from `gate.bash`,
  which it reads before the script because `BASH_ENV` names it; the file then removes `BASH_ENV` from the
  script's environment. This adds no process, only the reading of a four-line file.
- anything else: a small shell that reads the line and then `exec`s the command. That shell is `/bin/sh`,
  which starts in well under a millisecond; a POSIX shell keeps only the environment variables whose names
  are shell identifiers, so when the environment holds another name (`a.b=1`) it is bash, which passes every
  variable on as it found it. A command that cannot be started is then reported by that shell on the
  command's stderr, with exit status 127 (not found) or 126 (not executable).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence

CLOSED = 125  # the exit status of a child whose gate was closed without a go-ahead
CD_VARIABLE = "HYPERMETRIC_GATE_CD"  # the directory `gate.bash` changes to (a gate with `cd`)
# `$0` names hypermetric in the shell's own messages (`hypermetric: 1: exec: tool: not found`).
_EXEC_GATE = 'read -r hm_go || exit 125; exec "$@" </dev/null'
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_POSIX_SHELL = "/bin/sh"
_BASH_ENV_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gate.bash")
# bash options that leave `BASH_ENV` read and traced by nothing (`-x`, `-v`, `--posix`, `-p`, `-i`, `-t`
# and the rest take the other gate); `o` only last in a word, followed by one of `_SET_O`.
_FLAGS = re.compile(r"-[euEaBCfh]*o?\Z")
_SET_O = frozenset({"pipefail", "errexit", "nounset", "errtrace", "functrace", "noclobber", "noglob",
                    "allexport", "braceexpand", "hashall"})
_LONG = frozenset({"--norc", "--noprofile"})
_UNQUOTED = re.compile(r"[\w./+-]+\Z")  # bash expands `BASH_ENV`: the path must mean itself


class Gate:
    """One gated start: `command` gives `argv` and `env` for `subprocess.Popen` (with `stdin=gate.stdin`),
    then `open` lets the child run, or `close` makes it exit. The first of the two closes both ends of the
    pipe; the other is then a no-op.

    With `cd` (a physical path: no symbolic link in it, so `PWD` becomes what bash started there would
    find), the child changes to that directory once let through, before it reads its script, and leaves
    `OLDPWD` as it was: a child started ahead of its job in another directory then runs exactly as if started
    in `cd`. Only the `BASH_ENV` gate does this (`can_change_dir`)."""

    def __init__(self, cd: str | None = None) -> None:
        self.stdin, self._write = os.pipe()
        self._cd = cd

    def command(self, argv: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """`argv` (shell words, then the script file) behind the gate, and the environment to start it
        with, for a command meant to get environment `env`."""
        if CD_VARIABLE in env:  # only the gate may set it: a value from outside would move the script
            env = {name: value for name, value in env.items() if name != CD_VARIABLE}
        if _reads_bash_env(argv, env):
            extra = {CD_VARIABLE: self._cd} if self._cd is not None else {}
            return list(argv), {**env, "BASH_ENV": _BASH_ENV_FILE, **extra}
        if self._cd is not None:
            raise ValueError("only the BASH_ENV gate changes directory")
        shell = _POSIX_SHELL
        if not all(_NAME.match(name) for name in env):
            shell = _bash() or shell
        return [shell, "-c", _EXEC_GATE, "hypermetric", *argv], dict(env)

    def open(self) -> None:
        """Let the child run its command (a child that has died meanwhile is no error)."""
        self._close_read()
        if self._write >= 0:
            try:
                os.write(self._write, b"\n")
            except OSError:  # the child has gone (killed, or it never started)
                pass
            self.close()

    def close(self) -> None:
        """Make the child exit without running its command, unless it was let through already."""
        self._close_read()
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def _close_read(self) -> None:
        """The parent's copy of the child's end: once the child has started, only the child needs it."""
        if self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1


def can_change_dir(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether a gate with `cd` can start `argv` with environment `env` (the `BASH_ENV` gate applies)."""
    return _reads_bash_env(argv, env)


def _reads_bash_env(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether `argv` is bash running a script file with options under which it reads `BASH_ENV` (and
    the caller has no `BASH_ENV` of its own)."""
    if len(argv) < 2 or os.path.basename(argv[0]) != "bash" or "BASH_ENV" in env:
        return False
    if argv[-1].startswith(("-", "+")) or not _gate_file_usable():
        return False
    words = iter(argv[1:-1])
    for word in words:
        if word in _LONG:
            continue
        if not _FLAGS.match(word) or (word.endswith("o") and next(words, None) not in _SET_O):
            return False
    return True


_FILE_USABLE: list[bool] = []


def _gate_file_usable() -> bool:
    """Whether `gate.bash` is there (an installation could lack it) under a path bash's expansion of
    `BASH_ENV` leaves as it is."""
    if not _FILE_USABLE:
        _FILE_USABLE.append(bool(_UNQUOTED.match(_BASH_ENV_FILE)) and os.path.isfile(_BASH_ENV_FILE))
    return _FILE_USABLE[0]


_BASH: list[str] = []


def _bash() -> str | None:
    if not _BASH:
        _BASH.append(shutil.which("bash") or "")
    return _BASH[0] or None
