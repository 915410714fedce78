"""Runs every command of the README and of the examples' READMEs, as written, from the repository root.

`make docs-check` calls this after a fresh `make demo`, so a newcomer who follows the documents meets no
command that fails. The commands are the lines of the ```sh blocks (a block fenced ```shell shows commands
that need the reader's own files and is not run); `make` lines are left out (`make demo` has just run,
`make test` is the suite itself). Each line runs in bash from the repository root with the virtualenv
activated, as the README tells the reader to, with no terminal on stdin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def commands(text: str) -> list[str]:
    """The command lines of the ```sh blocks of `text`, continuation lines joined, comments dropped."""
    found: list[str] = []
    for block in _BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and not line.startswith("make "):
                found.append(line)
    return found


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted(ROOT.glob("examples/*/README.md"))]


def main() -> int:
    failed = 0
    for doc in documents():
        for command in commands(doc.read_text()):
            proc = subprocess.run(["bash", "-c", f"source .venv/bin/activate && {command}"], cwd=ROOT,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)
            where = doc.relative_to(ROOT)
            if proc.returncode == 0:
                print(f"ok    {where}: {command}")
                continue
            failed += 1
            print(f"FAIL  {where}: {command} (exit {proc.returncode})\n{proc.stdout}{proc.stderr}")
    print(f"{failed} command(s) failed" if failed else "every documented command ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
