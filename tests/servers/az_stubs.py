"""A recording stand-in for `az storage fs` (ADLS Gen2) and `az ml job` (Azure ML command jobs).

Like `stubs.py`, the stub appends its argv as one JSON line to `$STUB_LOG` and acts on `$STUB_ROOT`: ADLS
paths map to files under `<root>/<file system>/`; `ml job create --file F` runs the job's command at once
in the job's code directory (with `${{outputs.hm}}` pointing under `<root>/ml/<name>/`) and remembers its
end; `ml job show` reports `Running` the first time it is asked about a job and its end afterwards, so a
runner's poll sees the job running once. These check the commands the stdlib's `az.hm` issues and that the
protocols work end to end with them; they do not prove compatibility with the real services.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from servers.stubs import _COMMON

_AZ = _COMMON + r'''
import subprocess
FLAGS = {"--recursive", "--no-progress"}

args = sys.argv[1:]
if args[:2] == ["storage", "fs"]:
    kind, verb = args[2], args[3]
    opts, _ = options(args[4:])
    base = ROOT / opts["file-system"]
    path = base / (opts.get("path") or opts.get("name") or "")
    if verb == "exists":
        found = path.is_file() if kind == "file" else path.is_dir()
        print("true" if found else "false")
    elif (kind, verb) == ("directory", "create"):
        path.mkdir(parents=True, exist_ok=True)
    elif (kind, verb) == ("file", "create"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    elif (kind, verb) == ("file", "upload"):
        copy(opts["source"], path)
    elif (kind, verb) == ("file", "download"):
        copy(path, opts["destination"])
    elif (kind, verb) == ("directory", "upload"):
        source = opts["source"]
        target = base / opts["destination-path"]
        if source.endswith("/*"):
            copy(source[:-2], target)
        else:
            copy(source, target / Path(source).name)
    elif (kind, verb) == ("directory", "download"):
        source = base / opts["source-path"]
        copy(source, Path(opts["destination-path"]) / source.name)
    elif verb == "delete":
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        sys.exit(f"unknown command {args}")
elif args[:2] == ["ml", "job"]:
    verb = args[2]
    opts, _ = options(args[3:])
    if verb == "create":
        spec = Path(opts["file"]).resolve()
        fields = dict(line.split(": ", 1) for line in spec.read_text().splitlines() if ": " in line)
        name = fields["name"]
        job = ROOT / "ml" / name
        out = job / "outputs" / "hm"
        out.mkdir(parents=True)
        command = fields["command"].replace("${{outputs.hm}}", str(out))
        code = subprocess.run(["bash", "-c", command], cwd=spec.parent / fields["code"]).returncode
        (job / "state").write_text("Completed" if code == 0 else "Failed")
        (job / "spec.yml").write_text(spec.read_text())
        print(name)
    elif verb == "show":
        job = ROOT / "ml" / opts["name"]
        asked = job / "asked"
        print((job / "state").read_text() if asked.exists() else "Running")
        asked.touch()
    elif verb == "download":
        job = ROOT / "ml" / opts["name"]
        copy(job / "outputs" / opts["output-name"],
             Path(opts["download-path"]) / "named-outputs" / opts["output-name"])
    elif verb == "cancel":
        (ROOT / "ml" / opts["name"] / "state").write_text("Canceled")
    else:
        sys.exit(f"unknown command {args}")
else:
    sys.exit(f"unknown command {args}")
'''


def install(bin_dir: Path) -> None:
    """Write an executable `az` stub for `storage fs` and `ml job` into `bin_dir` (run by this Python)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "az"
    path.write_text(f"#!{sys.executable}\n{_AZ}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
